"""Services: the business rules of the application."""
