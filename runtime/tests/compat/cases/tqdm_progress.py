import io
from tqdm import tqdm
buf = io.StringIO()
total = 0
for i in tqdm(range(50), file=buf, mininterval=0, ncols=60, bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt}"):
    total += i
print(total, buf.getvalue().split("\r")[-1].strip())
