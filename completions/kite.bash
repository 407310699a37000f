# bash completion for kite
_kite_profiles()
{
	local conf=/etc/kite/vpn.ini i
	for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
		[[ ${COMP_WORDS[i]} == -c ]] && conf=${COMP_WORDS[i+1]}
	done
	[[ -r $conf ]] && sed -n 's/^[[:space:]]*\[\([A-Za-z0-9_.-]*\)\].*/\1/p' "$conf"
}

_kite_running()
{
	local s
	for s in /run/kite/*.sock; do
		[[ -S $s ]] && basename "$s" .sock
	done 2>/dev/null
}

_kite()
{
	local cur prev cmd i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	if [[ $prev == -c ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
		return
	fi
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-c) ((i++)) ;;
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	case $cmd in
	"") COMPREPLY=($(compgen -W "connect disconnect status check help -c -v -q --version" -- "$cur")) ;;
	connect) COMPREPLY=($(compgen -W "$(_kite_profiles) --foreground" -- "$cur")) ;;
	disconnect) COMPREPLY=($(compgen -W "$(_kite_running) --all" -- "$cur")) ;;
	status) COMPREPLY=($(compgen -W "$(_kite_running) --json" -- "$cur")) ;;
	check) COMPREPLY=($(compgen -W "$(_kite_running)" -- "$cur")) ;;
	help) COMPREPLY=($(compgen -W "connect disconnect status check" -- "$cur")) ;;
	esac
}
complete -F _kite kite
