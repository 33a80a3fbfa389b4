#!/bin/sh
# Reads an `apt-get -s install ...` plan on standard input and decides
# whether install-test-deps.sh may carry it out on this host.
#
# The rule (README, "What `make test` installs"):
#   - never remove a package                       ("Remv NAME ...": refused)
#   - never install, upgrade or replace a time daemon or a mail server
#     (any "Inst"/"Remv" of one: refused; they are unpacked under
#     target/test-tools instead, never installed)
#   - upgrades of other installed packages are allowed and listed: a machine
#     image is always older than the archive, so a new package's
#     dependencies (perl, libssl3, dpkg, ...) are often newer than what is
#     installed, and refusing those would refuse every fresh machine.
#
# Prints what the plan installs and upgrades on standard error; exits 0 when
# the plan may go ahead, 1 when it is refused (the reasons on standard error).
set -euf  # -f: plan lines hold "[...]", never expand them as globs

# Packages that keep the time or serve mail.  A glob per word, matched against
# the package name (architecture qualifiers such as ":amd64" are stripped).
GUARDED="
chrony ntp ntpsec ntpdate ntpsec-ntpdate ntpsec-ntpdig openntpd
systemd-timesyncd ntpsec-ntpviz sntp
dovecot-* postfix postfix-* exim4 exim4-* sendmail sendmail-* opensmtpd
courier-* citadel-* cyrus-* nullmailer msmtp-mta dma ssmtp
"

is_guarded() {
    name=${1%%:*}
    for pattern in $GUARDED; do
        # shellcheck disable=SC2254
        case $name in $pattern) return 0 ;; esac
    done
    return 1
}

refused=""
upgraded=""
installed=""
while IFS= read -r line; do
    case $line in
        Remv\ *)
            set -- $line
            refused="$refused
  $2 (would be removed)"
            ;;
        Inst\ *)
            set -- $line
            name=$2
            if [ "${3#\[}" != "$3" ]; then
                old=${3#\[}
                old=${old%\]}
                new=${4#\(}
                if is_guarded "$name"; then
                    refused="$refused
  $name $old (a time daemon or mail server would be replaced)"
                else
                    upgraded="$upgraded
  $name $old -> $new"
                fi
            else
                new=${3#\(}
                if is_guarded "$name"; then
                    refused="$refused
  $name $new (a time daemon or mail server would be installed)"
                else
                    installed="$installed $name"
                fi
            fi
            ;;
    esac
done

if [ -n "$refused" ]; then
    echo "install-test-deps: refused, the plan would change what keeps this host running:$refused" >&2
    exit 1
fi
[ -z "$installed" ] || echo "install-test-deps: new packages:$installed" >&2
[ -z "$upgraded" ] || echo "install-test-deps: upgrades of installed packages (allowed: newer dependencies):$upgraded" >&2
exit 0
