//! Opening a log: plain or compressed, recognised by its magic bytes and
//! never by its name (rotated files get renamed, and `.0` may be bzip2).

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use crate::helping::{Helpers, NoHelpers};
use crate::parallel_bzip2::ParallelBzip2;
use crate::parallel_zstd::ParallelZstd;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Plain,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
}

impl Compression {
    /// Detects the format from the first bytes of a file.
    pub fn detect(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(b"BZh") {
            Compression::Bzip2
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Compression::Xz
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) || is_skippable_frame(head) {
            Compression::Zstd
        } else {
            Compression::Plain
        }
    }
}

/// A zstd skippable frame (magic 0x184D2A50..5F, little-endian): pzstd
/// begins its output with one, and the zstd decoder skips it.
fn is_skippable_frame(head: &[u8]) -> bool {
    matches!(head, [first, 0x2a, 0x4d, 0x18, ..] if first & 0xf0 == 0x50)
}

/// Most memory an xz stream may make the decoder use: a little over what
/// `xz -9` needs (a 64 MiB dictionary), like zstd's default 128 MiB window
/// limit.  A small file whose header claims a huge dictionary would
/// otherwise cost gigabytes.
pub const XZ_MEMORY_LIMIT: u64 = 128 * 1024 * 1024;

/// Limits on what one compressed input may decode to.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// A compressed input may decode to at most this many times the
    /// compressed bytes read (and at least [`BOMB_FLOOR`]).
    pub max_ratio: u64,
}

/// Real logs compress 5 to 30 times (bzip2 on the generated maillog: 9);
/// a decompression bomb, a thousand times and far more (a 6.8 KB file of
/// concatenated bzip2 streams decodes to 6 GiB, 900,000 times).
pub const DEFAULT_MAX_RATIO: u64 = 1000;
/// Below this much output no input is a bomb, whatever its ratio (a tiny
/// archive of a few repeated lines may compress 1000 times).
pub const BOMB_FLOOR: u64 = 64 * 1024 * 1024;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_ratio: DEFAULT_MAX_RATIO,
        }
    }
}

/// Where the decoding of a compressed input may run, and its limits.
#[derive(Clone, Copy)]
pub struct Decoding<'h> {
    /// Who may decode the blocks of a bzip2 file (the frames of a zstd
    /// file) ahead of the reader.
    pub helpers: &'h dyn Helpers,
    /// How many blocks (frames) may be decoded ahead of the reader.
    pub window: usize,
    pub limits: Limits,
}

impl Decoding<'static> {
    /// Everything on the calling thread.
    pub fn sequential(limits: Limits) -> Decoding<'static> {
        Decoding {
            helpers: &NoHelpers,
            window: 1,
            limits,
        }
    }
}

/// The error of an input that decodes to more than its limit allows.
#[derive(Debug)]
pub struct ProbableBomb {
    pub max_ratio: u64,
    pub compressed: u64,
}

impl std::fmt::Display for ProbableBomb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "probable decompression bomb: decodes to more than {} times its {} compressed bytes \
             (--max-decoded-ratio); the rest of it was skipped",
            self.max_ratio, self.compressed
        )
    }
}

impl std::error::Error for ProbableBomb {}

/// Wraps `reader` in the decoder its first bytes call for, on this thread.
/// Every decoder reads all members or streams (concatenated gzip, pbzip2
/// output, ...).
pub fn decoder<'a, R: Read + 'a>(reader: R) -> io::Result<(Box<dyn Read + 'a>, Compression)> {
    decoder_with(reader, Decoding::sequential(Limits::default()))
}

/// [`decoder`], with a bzip2 file's blocks (a zstd file's frames) decoded
/// on `decoding`'s helpers too, and its limits applied.
pub fn decoder_with<'a, R: Read + 'a>(
    reader: R,
    decoding: Decoding<'a>,
) -> io::Result<(Box<dyn Read + 'a>, Compression)> {
    let compressed = Rc::new(Cell::new(0));
    let counted = Counted {
        inner: reader,
        count: Rc::clone(&compressed),
    };
    let mut buffered = BufReader::with_capacity(256 * 1024, counted);
    let compression = Compression::detect(buffered.fill_buf()?);
    let reader: Box<dyn Read + 'a> = match compression {
        Compression::Plain => return Ok((Box::new(buffered), compression)),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Bzip2 => Box::new(ParallelBzip2::new(
            buffered,
            decoding.helpers,
            decoding.window,
        )),
        Compression::Xz => {
            // The header's dictionary size is not trusted: past the limit
            // liblzma stops with a memory-limit error, and the file is
            // reported as damaged (as zstd's window limit does).
            let stream = liblzma::stream::Stream::new_stream_decoder(
                XZ_MEMORY_LIMIT,
                liblzma::stream::CONCATENATED,
            )
            .map_err(io::Error::other)?;
            Box::new(liblzma::bufread::XzDecoder::new_stream(buffered, stream))
        }
        Compression::Zstd => Box::new(ParallelZstd::new(
            buffered,
            decoding.helpers,
            decoding.window,
        )),
    };
    let limited = Limited {
        inner: reader,
        decoded: 0,
        compressed,
        max_ratio: decoding.limits.max_ratio,
    };
    Ok((Box::new(limited), compression))
}

/// Counts the compressed bytes read.
struct Counted<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Stops a decoder whose output outgrows its input by more than the limit.
/// The compressed bytes are those read so far (a decoder reads ahead a
/// little, which only loosens the limit by as much).
struct Limited<R> {
    inner: R,
    decoded: u64,
    compressed: Rc<Cell<u64>>,
    max_ratio: u64,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.decoded += n as u64;
        let compressed = self.compressed.get();
        let allowed = compressed.saturating_mul(self.max_ratio).max(BOMB_FLOOR);
        if self.decoded > allowed {
            return Err(io::Error::other(ProbableBomb {
                max_ratio: self.max_ratio,
                compressed,
            }));
        }
        Ok(n)
    }
}

/// Reads a file from `start` on with positioned reads, so several threads can
/// search different parts of one plain file at once.
pub struct RangeReader<'a> {
    pub file: &'a File,
    pub position: u64,
}

impl Read for RangeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let n = self.file.read_at(buf, self.position)?;
        self.position += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn roundtrip(compressed: Vec<u8>, expect: Compression) {
        let (mut reader, found) = decoder(&compressed[..]).unwrap();
        assert_eq!(found, expect);
        let mut out = String::new();
        reader.read_to_string(&mut out).unwrap();
        assert_eq!(out, "line one\nline two\n");
    }

    /// An xz file made with a 200 MiB dictionary (`xz -0 --lzma2=dict=200MiB`):
    /// small, but its header asks for more memory than the limit.  It is
    /// refused as damaged, and nothing near that memory is used.
    #[test]
    fn an_xz_header_asking_for_a_huge_dictionary_is_refused() {
        let mut filters = liblzma::stream::Filters::new();
        let mut options = liblzma::stream::LzmaOptions::new_preset(0).unwrap();
        options.dict_size(200 << 20);
        filters.lzma2(&options);
        let stream =
            liblzma::stream::Stream::new_stream_encoder(&filters, liblzma::stream::Check::Crc64)
                .unwrap();
        let mut xz = liblzma::write::XzEncoder::new_stream(Vec::new(), stream);
        xz.write_all(b"line one\nline two\n").unwrap();
        let bytes = xz.finish().unwrap();
        assert!(bytes.len() < 200, "{} bytes", bytes.len());
        let (mut reader, found) = decoder(&bytes[..]).unwrap();
        assert_eq!(found, Compression::Xz);
        let err = reader.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(err.to_string().to_lowercase().contains("memory"), "{err}");
    }

    #[test]
    fn every_format_by_magic_bytes() {
        roundtrip(b"line one\nline two\n".to_vec(), Compression::Plain);
        let mut gz = Vec::new();
        for part in ["line one\n", "line two\n"] {
            // Two gzip members, as `cat a.gz b.gz` makes.
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(part.as_bytes()).unwrap();
            gz.extend(enc.finish().unwrap());
        }
        roundtrip(gz, Compression::Gzip);
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        bz.write_all(b"line one\nline two\n").unwrap();
        roundtrip(bz.finish().unwrap(), Compression::Bzip2);
        let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 6);
        xz.write_all(b"line one\nline two\n").unwrap();
        roundtrip(xz.finish().unwrap(), Compression::Xz);
        roundtrip(
            zstd::encode_all(&b"line one\nline two\n"[..], 3).unwrap(),
            Compression::Zstd,
        );
    }
}
