# Sourced by fuzz.sh and fuzz-long.sh (from fuzz/): the fuzz targets, and
# the test fixtures each one starts from besides fuzz/seeds/TARGET.
FUZZ_ALL_TARGETS="ntpconf_document xinetd_config maillog_lines ntp_packet root_resolver bzip2_blocks zstd_frames"

# libFuzzer's limits, for every run and merge of every target: an input
# that runs longer than FUZZ_TIMEOUT seconds, or makes the target hold or
# ask for more than FUZZ_RSS_MB MiB, is a crash like a panic (issue 21: a
# slow or hungry input is what an attacker feeds), its input kept in
# fuzz/artifacts.  512 MiB is the hostile-input suite's `ulimit -v`; inputs
# are at most 64 KiB (-max_len), which every parser reads in milliseconds.
FUZZ_LIMITS="-rss_limit_mb=${FUZZ_RSS_MB:-512} -malloc_limit_mb=${FUZZ_RSS_MB:-512} -timeout=${FUZZ_TIMEOUT:-5}"

fixtures_of() {
    case $1 in
    ntpconf_document) echo ../tests/fixtures/ntp.conf ;;
    xinetd_config) echo ../tests/fixtures/xinetd.d ;;
    maillog_lines) echo ../tests/fixtures/logs ;;
    *) echo "" ;;
    esac
}
