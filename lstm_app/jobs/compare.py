"""`lstm-compare`'s tables: finished runs grouped by the table their job draws
(`Job.compare_table`), by the kind their run.json records, one markdown table per group."""

from lstm_app.jobs import JOBS


def comparison_table(runs: list) -> str:
    """Markdown tables of finished runs (`lstm_app.evaluation.compare.Run`): each kind's, in
    the order of `JOBS`; kinds that share a table (a panel and a panel read shard by shard)
    share it."""
    groups: dict = {}
    for job in JOBS.values():
        mine = [run for run in runs if run.kind == job.kind]
        if mine:
            groups.setdefault(job.compare_table, []).extend(mine)
    return "\n\n".join(table(group) for table, group in groups.items())
