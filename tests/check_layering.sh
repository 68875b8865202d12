#!/usr/bin/env bash
# Arrows point down only (DESIGN.md, "Layers"): sim/ knows nothing of models, scenarios, JSON or
# the CLI; models/ knows sim/ only; scenario/ knows models/ and sim/. Fails listing offenders.
set -u
root=${1:-.}
status=0
check() {  # check DIR PATTERN WHAT
  local hits
  hits=$(grep -rnE "$2" "$root/$1" --include='*.hpp' --include='*.cpp' 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "$1/ must not include $3:"
    echo "$hits"
    status=1
  fi
}
check sim '#include [<"](models|scenario|cli)/|nlohmann|fmt/' 'models/, scenario/, cli/, JSON or fmt'
check models '#include [<"](scenario|cli)/|nlohmann' 'scenario/, cli/ or JSON'
check scenario '#include [<"]cli/' 'cli/'
[ $status -eq 0 ] && echo "layering ok"
exit $status
