"""Business rules, written against repositories and raising application exceptions."""
