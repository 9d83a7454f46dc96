"""SQLAlchemy models. Importing this package registers every table on `Base.metadata`.

TODO(step 4): re-export Base, BaseModel, User and UserRole from here, so that
`from app.domain.models import Base` also registers the users table.
"""
