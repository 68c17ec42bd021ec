"""`make bench`: the benchmark suite is not written yet; it will print a table and write
bench/results.json with every figure against a baseline measured in the same run."""

print("The benchmark suite is not written yet.")
