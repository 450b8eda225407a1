import jmespath
data = {"jobs": [{"id": 1, "status": "ok", "ms": 30}, {"id": 2, "status": "failed", "ms": 900},
                 {"id": 3, "status": "ok", "ms": 45}]}
print(jmespath.search("jobs[?status=='ok'].id", data), jmespath.search("max_by(jobs, &ms).id", data))
print(jmespath.search("{n: length(jobs), slow: jobs[?ms > `100`] | [0].status}", data))
