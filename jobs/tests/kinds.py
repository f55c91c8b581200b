"""Job kinds used by the jobs app's own tests (registered when this module is imported)."""
from jobs import live
from jobs.registry import job_kind
from jobs.runner import JobError, JobInputError


@job_kind("test_count", "测试：计数", count_labels={"items": "个数"}, unit="个")
def count(job_run):
    n = job_run.params["n"]
    for i in range(1, n + 1):
        job_run.progress(i, n, "计数", force=True)
    job_run.count(items=n)
    job_run.log(f"数到 {n}")
    if job_run.params.get("result"):
        job_run.save_result("结果.txt", lambda path: open(path, "w", encoding="utf-8").write("好"))
    return f"数了 {n} 个"


@job_kind("test_fail", "测试：失败")
def fail(job_run):
    raise JobError("第 3 行的金额不对")


@job_kind("test_bad_input", "测试：输入有误")
def bad_input(job_run):
    job_run.progress(4, None)
    raise JobInputError("第 4 行的证件号码不对")


@job_kind("test_crash", "测试：出错")
def crash(job_run):
    raise RuntimeError("internal detail the user must not read")


@job_kind("test_cancel", "测试：取消")
def cancel_itself(job_run):
    live.request_cancel(job_run.job)  # as if the user clicked 取消 meanwhile
    job_run.progress(1, 2, force=True)
    return "不应完成"


@job_kind("test_split", "测试：分片", count_labels={"items": "个数"})
def split(job_run):
    job_run.job.total = sum(len(p) for p in job_run.params["parts_of"])
    return job_run.split(job_run.params["parts_of"])


@split.part
def split_part(job_run, payload):
    return len(payload), {"items": len(payload)}


@split.finish
def split_finish(job_run):
    return f"共 {job_run.job.done} 个"
