"""The plugin's tables come from its Alembic branch and match its models on both databases; a
client has exactly one primary organisation."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from portal_onec.models import Organisation
from sqlalchemy.exc import IntegrityError

from portal.plugin_api import Base, now, session
from portal.testing.factories import make_client


def test_the_branch_builds_the_tables_of_the_models(app) -> None:
    with session().get_bind().connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = [d for d in compare_metadata(context, Base.metadata) if "onec_" in repr(d)]
    assert differences == []


def test_a_client_has_one_primary_organisation(app, clock) -> None:
    client = make_client(clock)
    session().add(
        Organisation(
            client_id=client.id,
            name="A",
            inn="7707083893",
            kpp="773601001",
            is_primary=True,
            created_at=now(),
        )
    )
    session().add(
        Organisation(
            client_id=client.id,
            name="B",
            inn="7736050003",
            kpp="772801001",
            is_primary=False,
            created_at=now(),
        )
    )
    session().commit()
    session().add(
        Organisation(
            client_id=client.id,
            name="C",
            inn="7728168971",
            kpp="772801001",
            is_primary=True,
            created_at=now(),
        )
    )
    with pytest.raises(IntegrityError):
        session().commit()
    session().rollback()
