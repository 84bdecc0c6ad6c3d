"""The schema as forward-only migrations: (version, SQL script); append, never edit a released one."""

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE call_history (
            id INTEGER PRIMARY KEY,
            call_id TEXT NOT NULL UNIQUE,
            direction TEXT NOT NULL,
            source TEXT NOT NULL,
            destination TEXT NOT NULL,
            dialed TEXT NOT NULL DEFAULT '',
            caller_id TEXT NOT NULL DEFAULT '',
            state TEXT NOT NULL,
            start_time REAL NOT NULL,
            ring_duration REAL NOT NULL DEFAULT 0,
            talk_duration REAL NOT NULL DEFAULT 0,
            line TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX call_history_start ON call_history(start_time);
        CREATE TABLE recordings (
            id TEXT PRIMARY KEY,
            call_id TEXT NOT NULL,
            path TEXT NOT NULL,
            duration REAL NOT NULL DEFAULT 0,
            created REAL NOT NULL
        )
        """,
    ),
    (
        2,
        # SMS (sms/): outbox with per-part submission state, inbox with reassembly, webhook queue.
        """
        CREATE TABLE sms_out (
            id TEXT PRIMARY KEY,
            client_ref TEXT,
            api_extension TEXT NOT NULL,
            sender TEXT NOT NULL DEFAULT '',
            recipient TEXT NOT NULL,
            text TEXT NOT NULL,
            encoding TEXT NOT NULL,
            lines TEXT NOT NULL DEFAULT '',
            line TEXT,
            report_url TEXT NOT NULL DEFAULT '',
            state TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            parts INTEGER NOT NULL,
            created REAL NOT NULL,
            updated REAL NOT NULL,
            UNIQUE (api_extension, client_ref)
        );
        CREATE INDEX sms_out_state ON sms_out(state, created);
        CREATE TABLE sms_out_part (
            sms_id TEXT NOT NULL REFERENCES sms_out(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            pdu TEXT NOT NULL,
            tpdu_length INTEGER NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt REAL NOT NULL DEFAULT 0,
            line TEXT,
            mr INTEGER,
            mr_before INTEGER,
            submitted REAL,
            sent REAL,
            report TEXT NOT NULL DEFAULT '',
            report_status INTEGER,
            reported REAL,
            reason TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (sms_id, seq)
        );
        CREATE INDEX sms_out_part_state ON sms_out_part(state, next_attempt);
        CREATE INDEX sms_out_part_mr ON sms_out_part(line, mr);
        CREATE TABLE sms_line (name TEXT PRIMARY KEY, last_mr INTEGER, updated REAL NOT NULL);
        CREATE TABLE sms_in (
            id TEXT PRIMARY KEY,
            line TEXT NOT NULL,
            api_extension TEXT NOT NULL,
            sender TEXT NOT NULL,
            recipient TEXT NOT NULL,
            text TEXT NOT NULL,
            incomplete INTEGER NOT NULL DEFAULT 0,
            parts INTEGER NOT NULL,
            parts_received INTEGER NOT NULL,
            sent_time TEXT NOT NULL DEFAULT '',
            received REAL NOT NULL,
            read INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX sms_in_unread ON sms_in(read, received);
        CREATE TABLE sms_in_part (
            id INTEGER PRIMARY KEY,
            line TEXT NOT NULL,
            sender TEXT NOT NULL,
            ref INTEGER,
            total INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            data BLOB NOT NULL,
            pdu TEXT NOT NULL,
            sent_time TEXT NOT NULL DEFAULT '',
            received REAL NOT NULL,
            message_id TEXT,
            UNIQUE (line, pdu)
        );
        CREATE UNIQUE INDEX sms_in_part_pending ON sms_in_part(line, sender, ref, total, seq) WHERE message_id IS NULL;
        CREATE TABLE sms_hook (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            url TEXT NOT NULL,
            fields TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt REAL NOT NULL,
            last_error TEXT NOT NULL DEFAULT '',
            answer TEXT NOT NULL DEFAULT '',
            created REAL NOT NULL,
            UNIQUE (kind, subject)
        );
        CREATE INDEX sms_hook_due ON sms_hook(state, next_attempt)
        """,
    ),
    (
        3,
        # Calls (calls/): the API extension of each call, how it ended (CallerHangUp, Busy, ...)
        # beside its final call state, when it ended; and each recording's format.
        """
        ALTER TABLE call_history ADD COLUMN api_extension TEXT NOT NULL DEFAULT '';
        ALTER TABLE call_history ADD COLUMN result TEXT NOT NULL DEFAULT '';
        ALTER TABLE call_history ADD COLUMN end_time REAL NOT NULL DEFAULT 0;
        CREATE INDEX call_history_state ON call_history(state);
        ALTER TABLE recordings ADD COLUMN format TEXT NOT NULL DEFAULT 'wav';
        CREATE INDEX recordings_call ON recordings(call_id)
        """,
    ),
    (
        4,
        # E-mail (pigate/mail): the durable outbox SendEmail commits to before it answers. The address book
        # (pigate/addressbook): books, contacts, and each number with its match keys.
        """
        CREATE TABLE email_out (
            id TEXT PRIMARY KEY,
            client_ref TEXT,
            api_extension TEXT NOT NULL,
            sender TEXT NOT NULL,
            recipients TEXT NOT NULL,
            subject TEXT NOT NULL,
            body TEXT NOT NULL,
            attachments TEXT NOT NULL DEFAULT '[]',
            message_id TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt REAL NOT NULL DEFAULT 0,
            reason TEXT NOT NULL DEFAULT '',
            created REAL NOT NULL,
            updated REAL NOT NULL,
            sent REAL,
            UNIQUE (api_extension, client_ref)
        );
        CREATE INDEX email_out_due ON email_out(state, next_attempt);
        CREATE TABLE ab_book (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE);
        CREATE TABLE ab_contact (
            id TEXT PRIMARY KEY,
            book_id INTEGER NOT NULL REFERENCES ab_book(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            email TEXT NOT NULL DEFAULT '',
            organization TEXT NOT NULL DEFAULT '',
            note TEXT NOT NULL DEFAULT '',
            created REAL NOT NULL
        );
        CREATE INDEX ab_contact_name ON ab_contact(name COLLATE NOCASE);
        CREATE TABLE ab_number (
            contact_id TEXT NOT NULL REFERENCES ab_contact(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            number TEXT NOT NULL,
            e164 TEXT NOT NULL,
            tail TEXT NOT NULL,
            PRIMARY KEY (contact_id, seq)
        );
        CREATE INDEX ab_number_e164 ON ab_number(e164);
        CREATE INDEX ab_number_tail ON ab_number(tail)
        """,
    ),
]
