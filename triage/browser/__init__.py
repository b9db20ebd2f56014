"""`dalil serve`: a local web application over a case (Starlette, Jinja, htmx), a thin layer over the
query functions the CLI and the report use. Every asset is shipped in `static/`; see `security.py`
for what keeps suspect content and other local users out."""
