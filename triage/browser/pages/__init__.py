"""One module per page of `dalil serve`; each has `routes(ctx)`."""
