#include <cstdio>
#include <cstring>

#include "sim/version.hpp"

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--version") == 0) std::printf("dsim %s\n", sim::kVersion);
  return 0;
}
