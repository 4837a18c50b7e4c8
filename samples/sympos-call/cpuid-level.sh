# While patched, /proc/cmdline shows CPUID leaf 0's eax as read by the kernel's cpuid_eax(): it must be the
# "cpuid level" the kernel recorded at boot.
[ "$1" = patched ] || exit 0
expected="cpuid level $(sed -n 's/^cpuid level[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
actual="$(cat /proc/cmdline)"
echo "expected '$expected', got '$actual'"
[ "$actual" = "$expected" ]
