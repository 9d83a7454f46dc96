"""User management backend built with FastAPI, in Clean Architecture layers."""
