_LICENSE=LGPL21 MIT
_LICENSE_NAME=LGPL21 MIT
_LICENSE_PERMS=dist-mirror dist-sell pkg-mirror pkg-sell auto-accept
_LICENSE_COMB=multi
_LICENSE_FILE=/usr/local/share/licenses/dovecot-1.2.17/LICENSE
