"""利用登记 (use register): one entry per reading session, built from the audit records that name
the session, kept after the grant and the session have ended, annotated with the outcome."""
