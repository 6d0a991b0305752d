"""The functions SQLite's journal triggers call (migration journal/0004).

SQLite has no session settings like PostgreSQL's `lien.shredding`, so each connection Lien
opens gets two application functions reading the state `journal.shred()` puts on it:
`lien_shred_allowed(subject_id, object_type, object_id)` is 1 only for an entry about a
person being erased in this transaction, and `lien_journal_delete_allowed()` is 1 only while
a test database is being flushed. A connection without them (the sqlite3 shell) fails on
"no such function": it cannot update or delete journal rows either.
"""


def install(wrapper) -> None:
    """Register the functions on a new SQLite connection of Django's `wrapper`."""
    if wrapper.vendor != "sqlite" or wrapper.connection is None:
        return
    wrapper.lien_shredding = getattr(wrapper, "lien_shredding", frozenset())
    wrapper.lien_allow_journal_delete = getattr(wrapper, "lien_allow_journal_delete", False)

    def shred_allowed(subject_id, object_type, object_id) -> int:
        scope = wrapper.lien_shredding
        if subject_id is not None and subject_id in scope:
            return 1
        return int(object_type == "beneficiary" and object_id is not None and object_id in scope)

    def delete_allowed() -> int:
        return int(bool(wrapper.lien_allow_journal_delete))

    wrapper.connection.create_function("lien_shred_allowed", 3, shred_allowed)
    wrapper.connection.create_function("lien_journal_delete_allowed", 0, delete_allowed)


def on_connection_created(sender, connection, **kwargs) -> None:
    install(connection)
