"""Android app databases: one parser a module."""
