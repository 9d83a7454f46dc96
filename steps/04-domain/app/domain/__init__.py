"""The domain: database models and API schemas, depending on nothing above them."""
