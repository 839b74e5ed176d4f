"""The PostgreSQL role that reads the archive: its name, its grants, and the check that it only reads.

``tgwatch sql``, ``serve``, ``report`` and ``export`` read a PostgreSQL archive *as this role*: they
log in as it, so the session user itself can only ``SELECT``. A ``SET ROLE`` from the owner's
session would not do: a query can switch the role back (``set_config('role', 'none', false)``) and
run SQL as the owner or superuser through ``query_to_xml``. The role is a plain login with no
password of its own (so it can log in only where ``pg_hba.conf`` trusts the connection, or once an
administrator gives it one); migration ``0005`` creates it when the owner may create roles, and
grants it ``USAGE`` on the archive's schema and ``SELECT`` on its tables (today's and, by default
privileges, tomorrow's), except the notification targets (Apprise URLs carry tokens and passwords).

Roles are cluster-wide and archives are many: creating the role is idempotent and survives a
concurrent creator (another archive's migration in the same cluster).
"""

from __future__ import annotations

import os
import re
from typing import Any

from storage.errors import ArchiveError

READER_ROLE_ENV = "TGWATCH_READER_ROLE"
"""Environment variable naming the reading role (default ``DEFAULT_READER_ROLE``)."""
READER_PASSWORD_ENV = "TGWATCH_READER_PASSWORD"
"""Environment variable with the reading role's password, when it has one (else ``~/.pgpass``)."""
DEFAULT_READER_ROLE = "tgwatch_reader"
SECRET_COLUMNS = {"deliveries": ("target",)}
"""Columns the reader may not see: notification targets are Apprise URLs with credentials."""

_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_POWERS = ("pg_execute_server_program", "pg_read_server_files", "pg_write_server_files",
           "pg_signal_backend", "pg_checkpoint", "pg_write_all_data", "pg_read_all_settings")  # fmt: skip


def reader_role() -> str:
    """The reading role's name: ``TGWATCH_READER_ROLE``, else ``tgwatch_reader``."""
    name = os.environ.get(READER_ROLE_ENV) or DEFAULT_READER_ROLE
    if not _ROLE_NAME.fullmatch(name):
        raise ArchiveError(f"{READER_ROLE_ENV}={name!r}: not a role name (lower-case letters, digits and _)")
    return name


def grant_reader_sql(role: str) -> str:
    """One ``DO`` block: create ``role`` if missing and allowed, then grant it reading of the archive
    in the current schema. Safe to run again, and beside another creator of the same role."""
    if not _ROLE_NAME.fullmatch(role):
        raise ValueError(f"not a role name: {role!r}")
    hidden = "\n".join(
        f"""    IF to_regclass(format('%I.{table}', s)) IS NOT NULL THEN
      EXECUTE format('REVOKE SELECT ON %I.{table} FROM {role}', s);
      SELECT string_agg(quote_ident(column_name), ', ') INTO cols FROM information_schema.columns
        WHERE table_schema = s AND table_name = '{table}'
          AND column_name NOT IN ({", ".join(f"'{c}'" for c in columns)});
      IF cols IS NOT NULL THEN
        EXECUTE format('GRANT SELECT (%s) ON %I.{table} TO {role}', cols, s);
      END IF;
    END IF;"""
        for table, columns in SECRET_COLUMNS.items()
    )
    return f"""
DO $tgwatch$
DECLARE
  s text := current_schema();
  cols text;
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
    IF NOT (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
      RAISE WARNING 'tgwatch: role {role} does not exist and % may not create it: %', current_user,
        'tgwatch sql/serve need it (README, "Read-only access")';
      RETURN;
    END IF;
    BEGIN
      CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;  -- created meanwhile by another archive's migration
    END;
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO {role}', s);
  EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO {role}', s);
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES TO {role}', s);
{hidden}
END
$tgwatch$;
"""


def check_reader(connection: Any, role: str, where: str) -> None:
    """Refuse a reading connection whose role can do more than read the archive (psycopg connection).

    A misconfigured ``TGWATCH_READER_ROLE`` (the owner, a superuser, a member of the server-file
    roles) would make "read-only" a keyword check again; this makes it an error instead.
    """
    row = connection.execute(
        """
        SELECT r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolbypassrls OR r.rolreplication,
               coalesce((SELECT bool_or(pg_has_role(current_user, p.oid, 'MEMBER'))
                         FROM pg_roles p WHERE p.rolname = ANY(%s)), false),
               EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm')
                         AND (pg_has_role(current_user, c.relowner, 'MEMBER')
                              OR has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, TRIGGER')))
        FROM pg_roles r WHERE r.rolname = current_user
        """,
        (list(_POWERS),),
    ).fetchone()
    if row is None:
        raise ArchiveError(f"{where}: cannot read the privileges of role {role}")
    powerful, server_roles, writes = row
    if powerful or server_roles or writes:
        why = ("is a superuser or may create roles or databases" if powerful else
               "is a member of a role that reaches the server's files, programs or backends" if server_roles
               else "may write or owns the archive's tables")
        raise ArchiveError(f"{where}: role {role} {why}; tgwatch reads only as a role that can only SELECT "
                           f"(README, 'Read-only access')")
