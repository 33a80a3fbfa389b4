# Sourced by fuzz.sh and fuzz-long.sh (from fuzz/): the fuzz targets, and
# the test fixtures each one starts from besides fuzz/seeds/TARGET.
FUZZ_ALL_TARGETS="ntpconf_document xinetd_config maillog_lines ntp_packet root_resolver bzip2_blocks"

fixtures_of() {
    case $1 in
    ntpconf_document) echo ../tests/fixtures/ntp.conf ;;
    xinetd_config) echo ../tests/fixtures/xinetd.d ;;
    maillog_lines) echo ../tests/fixtures/logs ;;
    *) echo "" ;;
    esac
}
