# bash completion for migrate(1)                              -*- shell-script -*-
#
# Installed as share/bash-completion/completions/migrate. Commands and their
# options are read from the binary's own help ('migrate help', 'migrate help
# COMMAND'), so they stay right as commands grow; the lists below are only
# the fallback when the binary cannot be run. --env completes the sections
# of the config file in use (--config, else $MIGRATE_CONFIG, else
# ./config.ini), --to the versions in the migrations directory, baseline
# --from the tools it takes over, and seed the
# seed files.

_migrate_fallback_commands='up down redo status version new validate repair baseline seed dump verify lint drift testdb create drop wait lock drivers help'
_migrate_fallback_globals='-c --config -e --env -u --url --migrations-dir --seeds-dir --format -q --quiet -v --verbose --dry-run --lock-timeout -h --help --version'

# _migrate_help BIN [COMMAND]: the help text, or nothing.
_migrate_help()
{
	"$1" help ${2:+"$2"} 2>/dev/null </dev/null
}

# The option names in a block of help text (lines that begin with -).
_migrate_opts_in()
{
	sed -n 's/^ *\(-[A-Za-z], \)\{0,1\}\(--[a-z][a-z-]*\).*/\1\2/p' | tr -d ',' | tr ' ' '\n' | sed '/^$/d'
}

# The options in a block of help text that take a value ("--to VERSION").
_migrate_valued_in()
{
	sed -n 's/^ *\(-\([A-Za-z]\), \)\{0,1\}\(--[a-z][a-z-]*\) [A-Za-z|]\{1,\}\( .*\)\{0,1\}$/-\2 \3/p' |
		tr ' ' '\n' | sed '/^-$/d;/^$/d'
}

# _migrate_reply compgen ARGS...: COMPREPLY from compgen, one word a line
# (file names with spaces stay whole).
_migrate_reply()
{
	mapfile -t COMPREPLY < <("$@")
}

# The sections of an ini file that name environments.
_migrate_envs()
{
	local file=$1
	[[ -r $file ]] || return 0
	sed -n 's/^[[:space:]]*\[\([^]]*\)\][[:space:]]*\([;#].*\)\{0,1\}$/\1/p' "$file" |
		sed '/^migrate$/d;/^placeholders$/d;/^targets /d'
}

# The NAMEs of the [targets NAME] sections of an ini file.
_migrate_targets()
{
	local file=$1
	[[ -r $file ]] || return 0
	sed -n 's/^[[:space:]]*\[targets[[:space:]]\{1,\}\([^]]*\)\][[:space:]]*\([;#].*\)\{0,1\}$/\1/p' "$file"
}

_migrate()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=""
	local bin=${COMP_WORDS[0]} help cmd="" cmdhelp="" i w
	local config=${MIGRATE_CONFIG:-config.ini} migdir=migrations seeddir=seeds
	local commands globals valued cmdopts=""

	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	bin=${bin/#\~/$HOME}
	help=$(_migrate_help "$bin")
	if [[ -n $help ]]; then
		commands=$(printf '%s\n' "$help" | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
		globals=$(printf '%s\n' "$help" | sed -n '/^global options/,/^$/p' | _migrate_opts_in)
		valued=$(printf '%s\n' "$help" | sed -n '/^global options/,/^$/p' | _migrate_valued_in)
	else
		commands=$_migrate_fallback_commands
		globals=$_migrate_fallback_globals
		valued=$'-c\n--config\n-e\n--env\n-u\n--url\n--migrations-dir\n--seeds-dir\n--format\n--lock-timeout'
	fi

	# the fleet options are taken anywhere, like the globals
	valued+=$'\n--targets\n--parallel\n--canary'

	# Find the command and the files the words name, skipping option values.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		-c | --config) config=${COMP_WORDS[i + 1]} ;;
		--config=*) config=${w#*=} ;;
		--migrations-dir) migdir=${COMP_WORDS[i + 1]} ;;
		--migrations-dir=*) migdir=${w#*=} ;;
		--seeds-dir) seeddir=${COMP_WORDS[i + 1]} ;;
		--seeds-dir=*) seeddir=${w#*=} ;;
		esac
		if [[ $w == -* ]]; then
			[[ $w != *=* && $'\n'$valued$'\n' == *$'\n'$w$'\n'* ]] && ((i++))
			continue
		fi
		[[ -z $cmd ]] && cmd=$w
	done
	config=${config/#\~/$HOME}

	if [[ -n $cmd ]]; then
		cmdhelp=$(_migrate_help "$bin" "$cmd" | sed -n '/^options:/,/^$/p')
		cmdopts=$(printf '%s\n' "$cmdhelp" | _migrate_opts_in)
	fi

	# The value of an option.
	case $prev in
	-c | --config)
		_migrate_reply compgen -f -- "$cur"
		return
		;;
	-e | --env)
		_migrate_reply compgen -W "$(_migrate_envs "$config")" -- "$cur"
		return
		;;
	--migrations-dir | --seeds-dir)
		_migrate_reply compgen -d -- "$cur"
		return
		;;
	--format)
		_migrate_reply compgen -W 'text json' -- "$cur"
		return
		;;
	--to)
		# migrate's, golang-migrate's, goose's and dbmate's <version>_..., Flyway's V<version>__...
		_migrate_reply compgen -W "$(ls "$migdir" 2>/dev/null | sed -n -e 's/^\([0-9][0-9]*\)_.*\.sql$/\1/p' \
			-e 's/^V\([0-9][0-9._]*\)__.*\.sql$/\1/p' | tr _ . | sort -u)" -- "$cur"
		return
		;;
	--from)
		_migrate_reply compgen -W 'golang-migrate goose flyway dbmate' -- "$cur"
		return
		;;
	--table)
		return
		;;
	-o | --output)
		_migrate_reply compgen -f -- "$cur"
		return
		;;
	--targets)
		_migrate_reply compgen -W "$(_migrate_targets "$config")" -- "$cur"
		return
		;;
	--parallel | --canary)
		return
		;;
	-u | --url | --lock-timeout | --timeout | --scratch-url)
		return
		;;
	esac

	if [[ $cur == -* ]]; then
		_migrate_reply compgen -W "$globals $cmdopts" -- "$cur"
		return
	fi
	case $cmd in
	"")
		_migrate_reply compgen -W "$commands" -- "$cur"
		;;
	help)
		_migrate_reply compgen -W "$commands" -- "$cur"
		;;
	seed)
		_migrate_reply compgen -W "$(ls "$seeddir" 2>/dev/null | sed -n '/^[0-9][0-9]*_.*\.\(sql\|csv\)$/p')" -- "$cur"
		;;
	lint)
		_migrate_reply compgen -W "$(ls "$migdir" 2>/dev/null | sed -n 's/^\([0-9][0-9]*\)_.*\.sql$/\1/p')" -- "$cur"
		;;
	esac
}

complete -F _migrate migrate
