"""iOS app databases and property lists: one parser a module."""
