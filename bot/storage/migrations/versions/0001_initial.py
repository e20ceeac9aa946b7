"""Initial schema: contacts, cases, transcripts, inbound keys, outbox, counters, samples.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.storage.schema import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HASH = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("addr_hash", HASH, nullable=False),
        sa.Column("addr_enc", sa.Text, nullable=False),
        sa.Column("state_enc", sa.Text, nullable=False),
        sa.Column("opted_out", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contacts"),
        sa.UniqueConstraint("addr_hash", name="uq_contacts_addr_hash"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("contact_id", sa.Integer, nullable=False),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("entry_id", sa.String(128)),
        sa.Column("topic_id", sa.BigInteger),
        sa.Column("card_message_id", sa.BigInteger),
        sa.Column("claimed_by_enc", sa.Text),
        sa.Column("opened_at", UTCDateTime, nullable=False),
        sa.Column("claimed_at", UTCDateTime),
        sa.Column("closed_at", UTCDateTime),
        sa.Column("repaged_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name="fk_cases_contact_id_contacts",
            ondelete="CASCADE",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_cases_contact_id", "cases", ["contact_id"])
    op.create_index("ix_cases_status_opened_at", "cases", ["status", "opened_at"])
    op.create_index("ix_cases_topic_id", "cases", ["topic_id"])

    op.create_table(
        "transcripts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("contact_id", sa.Integer, nullable=False),
        sa.Column("case_id", sa.Integer),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("text_enc", sa.Text, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_transcripts"),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name="fk_transcripts_contact_id_contacts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_transcripts_case_id_cases", ondelete="CASCADE"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_transcripts_contact_id_id", "transcripts", ["contact_id", "id"])
    op.create_index("ix_transcripts_case_id", "transcripts", ["case_id"])
    op.create_index("ix_transcripts_at", "transcripts", ["at"])

    op.create_table(
        "inbound_keys",
        sa.Column("key_hash", HASH, nullable=False),
        sa.Column("claimed_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name="pk_inbound_keys"),
    )
    op.create_index("ix_inbound_keys_claimed_at", "inbound_keys", ["claimed_at"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("addr_hash", HASH, nullable=False),
        sa.Column("addr_enc", sa.Text),
        sa.Column("text_enc", sa.Text),
        sa.Column("payload_enc", sa.Text),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("lease_token", sa.String(32)),
        sa.Column("lease_until", UTCDateTime),
        sa.Column("last_error", sa.String(64)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_outbox_status_due_at", "outbox", ["status", "due_at"])
    op.create_index("ix_outbox_addr_hash", "outbox", ["addr_hash"])
    op.create_index("ix_outbox_lease_token", "outbox", ["lease_token"])

    op.create_table(
        "counters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("hour", UTCDateTime, nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("entry_id", sa.String(128), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_counters"),
        sa.UniqueConstraint(
            "hour", "name", "entry_id", "lang", name="uq_counters_hour_name_entry_id_lang"
        ),
        sqlite_autoincrement=True,
    )

    op.create_table(
        "unmatched",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("text_enc", sa.Text, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_unmatched"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_unmatched_at", "unmatched", ["at"])

    op.create_table(
        "optout_markers",
        sa.Column("addr_hash", HASH, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("addr_hash", name="pk_optout_markers"),
    )


def downgrade() -> None:
    for table in (
        "optout_markers",
        "unmatched",
        "counters",
        "outbox",
        "inbound_keys",
        "transcripts",
        "cases",
        "contacts",
    ):
        op.drop_table(table)
