# While patched, the status must follow the module's real variable: turn binfmt_misc off and on again.
[ "$1" = patched ] || exit 0
echo 0 > /binfmt/status && off="$(cat /binfmt/status)"
echo 1 > /binfmt/status && on="$(cat /binfmt/status)"
echo "off: $off; on: $on"
[ "$off" = "enabled=0 (live patched)" ] && [ "$on" = "enabled=1 (live patched)" ]
