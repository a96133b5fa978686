-- Nothing reads blocks.seen_seq: a tie at one height keeps the block that is already canonical
-- (fork choice needs no arrival counter for that), and journal_id records arrival order anyway.
-- Dropping the column drops the sequence it owns.
alter table blocks drop column seen_seq;
