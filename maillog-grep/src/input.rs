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

/// Wraps `reader` in the decoder its first bytes call for.  Every decoder
/// reads all members or streams (concatenated gzip, pbzip2 output, ...).
pub fn decoder<'a, R: Read + 'a>(reader: R) -> io::Result<(Box<dyn Read + 'a>, Compression)> {
    let mut buffered = BufReader::with_capacity(256 * 1024, reader);
    let compression = Compression::detect(buffered.fill_buf()?);
    let reader: Box<dyn Read + 'a> = match compression {
        Compression::Plain => Box::new(buffered),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(buffered)),
        Compression::Xz => Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(buffered)),
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
