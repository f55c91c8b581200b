"""The balance trigger reads only the lines a statement inserts (issue 17 §3).

``ledger_entries_balance`` (0001) summed, for every journal the statement touched, all of
that journal's lines in ``ledger_entry`` — one index probe (or, with a plan made while the
table looked empty, a scan of the whole table) per journal: ≈ 0.5–0.7 s of server CPU for
the 100 000 journals of a payments import. It now sums the statement's own lines, the
transition table ``new_entries``, grouped by journal, and refuses a journal whose new lines
do not sum to zero or are fewer than two — with the same message and error code.

Why the two checks accept and refuse exactly the same statements:

1. Every line stored passed the check of the statement that inserted it, and lines are
   never changed or deleted (``ledger_append_only``; TRUNCATE empties both tables at once).
   Under the old check, a statement S sees V = the lines of committed transactions and of
   its own transaction's earlier statements, plus its own lines N. By induction over the
   statements in the order they ran, the lines of each earlier statement sum to zero per
   journal, so V sums to zero per journal and the old condition SUM(V ∪ N) = 0 is the
   same as SUM(N) = 0 — per journal, for a journal given more lines later too: lines that
   do not sum to zero are refused by either check, whatever the journal held before.
2. A line's amount is never zero (the CHECK ``entry_amount_nonzero``, checked on each row
   before this AFTER STATEMENT trigger). So a journal with exactly one new line has
   SUM(N) ≠ 0 and is refused by both. With two new lines or more, COUNT(V ∪ N) ≥ 2 as
   well. Hence "COUNT < 2" over the new lines refuses nothing the old check accepted,
   and nothing unbalanced gets through that the old check refused.

What the new check assumes and the old did not: that the stored lines were balanced — true
of every line written through the trigger (0001 created it with the table). Lines written
with the trigger disabled (``ALTER TABLE … DISABLE TRIGGER``, ``session_replication_role =
replica``) are not re-checked when a later statement adds lines to the same journal; the
old check would have refused that later statement. ``ledger.selectors.unbalanced_journals``
(and ``finance.checks.ledger_differences``) still look at the whole ledger.
"""

from django.db import migrations

from migration_operations import RunSQLOnPostgreSQL

# The function of 0001 and this one differ only in the query that finds an unbalanced journal.
FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION ledger_entries_balance() RETURNS trigger AS $$
DECLARE bad bigint;
BEGIN
    %s
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION '记账凭证 %% 借贷不平衡', bad USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""
NEW_SQL = FUNCTION_SQL % (
    "SELECT n.journal_id INTO bad FROM new_entries n\n"
    "     GROUP BY n.journal_id HAVING SUM(n.amount) <> 0 OR COUNT(*) < 2 LIMIT 1;")
OLD_SQL = FUNCTION_SQL % (  # 0001's
    "SELECT e.journal_id INTO bad FROM ledger_entry e\n"
    "     WHERE e.journal_id IN (SELECT DISTINCT journal_id FROM new_entries)\n"
    "     GROUP BY e.journal_id HAVING SUM(e.amount) <> 0 OR COUNT(*) < 2 LIMIT 1;")


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0002_journal_key_indexes'),
    ]

    operations = [
        RunSQLOnPostgreSQL([NEW_SQL], reverse_sql=[OLD_SQL], elidable=False),
    ]
