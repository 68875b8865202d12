# CTest's COST of the longest tests (seconds under the sanitizers, measured): a parallel run
# starts the costliest first. A fresh build directory has no timings of earlier runs, so without
# these the library test, a third of the suite's time, started among the last. A renamed test
# loses its cost silently (CTest ignores a name it does not know): only the order suffers.
set_tests_properties(
  "scenarios:every library scenario runs deterministically and keeps its fingerprint"
  PROPERTIES COST 210)
set_tests_properties(
  "validation:supermarket model: ten M/M/1 replicas at rho = 0.9, p2c against random"
  PROPERTIES COST 190)
set_tests_properties("validation:each shard's latency is M/M/c at its own utilization"
                     PROPERTIES COST 50)
set_tests_properties(
  "validation:a load balancer sends nothing to a backend out of rotation (30 seeds, pauses)"
  PROPERTIES COST 43)
