-- Items of the inbox file (`<database>-inbox`) applied to this database, written in the
-- same transaction as what they applied. The two files cannot share a transaction, so
-- this record is what makes each item applied exactly once: an item found here is
-- deleted from the inbox instead of being applied again (after a crash between the
-- apply's commit and the inbox's delete). Rows are dropped once their items are gone.
CREATE TABLE inbox_applied (
    id INTEGER PRIMARY KEY
);
