# Groups the tasks of a sysrq-t/w dump by their function names (offsets
# dropped, "? " frames and RIP/register lines left out), prints
# "count|state counts|func;func;..." innermost first.
function flush() { if (intask) { key[stack]++; st[stack] = st[stack] state; } intask=0; stack="" }
/ task:/ { flush(); intask=1; match($0, /state:[A-Z]/); state=substr($0, RSTART+6, 1); next }
intask && /^\[ *[0-9.]+\]  [^ ?<]/ {
  line=$0; sub(/^\[ *[0-9.]+\]  /, "", line)
  if (line ~ /^[A-Za-z_.][^ ]*\+0x[0-9a-f]+\/0x[0-9a-f]+( \[[^]]+\])?$/) {
    name=line; sub(/\+0x.*/, "", name); mod=""
    if (match(line, / \[[^]]+\]$/)) mod=substr(line, RSTART, RLENGTH)
    stack = stack (stack == "" ? "" : ";") name mod
  }
}
END { flush(); for (k in key) print key[k] "|" st[k] "|" k }
