# bash completion for eeprof (installed as share/bash-completion/completions/eeprof).
# Commands and each command's options are read from eeprof's own --help texts when you
# press TAB, so they never drift from the program; other words complete as file names.
_eeprof()
{
	local cur=${COMP_WORDS[COMP_CWORD]} words
	COMPREPLY=()
	if [ "$COMP_CWORD" -eq 1 ]; then
		words=$("${COMP_WORDS[0]}" --help 2>/dev/null | awk '/^commands:/ { on = 1; next }
			on && /^  [a-z]/ { print $1 } on && /^$/ { exit }')
	elif [[ $cur == -* ]]; then
		words=$("${COMP_WORDS[0]}" "${COMP_WORDS[1]}" --help 2>/dev/null |
			grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
	else
		return 0 # file names (complete -o default)
	fi
	mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
}
complete -o default -F _eeprof eeprof
