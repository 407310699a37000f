# fish completion for kite
function __kite_profiles
	set -l conf /etc/kite/vpn.ini
	test -r $conf; and sed -n 's/^[[:space:]]*\[\([A-Za-z0-9_.-]*\)\].*/\1/p' $conf
end
function __kite_running
	for s in /run/kite/*.sock
		test -S $s; and basename $s .sock
	end
end
set -l cmds connect disconnect status check help
complete -c kite -f
complete -c kite -s c -r -F -d 'configuration file'
complete -c kite -s v -d 'verbose logging'
complete -c kite -s q -d 'errors only'
complete -c kite -l version -d 'show version'
complete -c kite -n "not __fish_seen_subcommand_from $cmds" -a connect -d 'connect a profile'
complete -c kite -n "not __fish_seen_subcommand_from $cmds" -a disconnect -d 'close a connection'
complete -c kite -n "not __fish_seen_subcommand_from $cmds" -a status -d 'show connections'
complete -c kite -n "not __fish_seen_subcommand_from $cmds" -a check -d 'check the path and the gateway now'
complete -c kite -n "not __fish_seen_subcommand_from $cmds" -a help -d 'show help'
complete -c kite -n "__fish_seen_subcommand_from connect" -a '(__kite_profiles)' -l foreground
complete -c kite -n "__fish_seen_subcommand_from disconnect" -a '(__kite_running)' -l all
complete -c kite -n "__fish_seen_subcommand_from status" -a '(__kite_running)' -l json
complete -c kite -n "__fish_seen_subcommand_from check" -a '(__kite_running)'
