//! Opening a log: plain or compressed, recognised by its magic bytes and
//! never by its name (rotated files get renamed, and `.0` may be bzip2).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};

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
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::Plain
        }
    }
}

/// Most memory an xz stream may make the decoder use: a little over what
/// `xz -9` needs (a 64 MiB dictionary), like zstd's default 128 MiB window
/// limit.  A small file whose header claims a huge dictionary would
/// otherwise cost gigabytes.
pub const XZ_MEMORY_LIMIT: u64 = 128 * 1024 * 1024;

/// Wraps `reader` in the decoder its first bytes call for.  Every decoder
/// reads all members or streams (concatenated gzip, pbzip2 output, ...).
pub fn decoder<'a, R: Read + 'a>(reader: R) -> io::Result<(Box<dyn Read + 'a>, Compression)> {
    let mut buffered = BufReader::with_capacity(256 * 1024, reader);
    let compression = Compression::detect(buffered.fill_buf()?);
    let reader: Box<dyn Read + 'a> = match compression {
        Compression::Plain => Box::new(buffered),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(buffered)),
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
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?),
    };
    Ok((reader, compression))
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
