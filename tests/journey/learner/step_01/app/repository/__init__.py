"""Repositories: the only place that talks SQL."""
