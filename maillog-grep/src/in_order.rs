//! What the two parallel decoders share: a file cut into pieces that the
//! workers decode ([`crate::helping`]), whose output one `Read` hands on in
//! the file's order.
//!
//! [`crate::parallel_bzip2`] cuts at block markers and [`crate::parallel_zstd`]
//! at frames; each says how the next piece's output is had ([`Pieces`]),
//! and [`InOrder`] reads it out, piece after piece.  After an error every
//! read gives that error again, and the decodes still offered are
//! cancelled (they are no one's work any more), as they are when the
//! reader is dropped.

use std::io::{self, Read};

/// Where the output of the current piece comes from.
pub enum Output<'h> {
    /// Decoded whole (by a worker, or here), and how much of it is read.
    Held(Vec<u8>, usize),
    /// Decoded here as it is read (a piece too big to hold, or one whose
    /// output up to its damage the sequential decoder's error must follow).
    Streaming(Box<dyn Read + 'h>),
}

/// The pieces of one compressed file, in order.
pub trait Pieces<'h> {
    /// The next piece's output; `None` at the end of the file.
    fn next_output(&mut self) -> io::Result<Option<Output<'h>>>;
    /// Cancels the decodes offered and not yet collected, and forgets them.
    fn abandon(&mut self);
}

/// A `Read` of the pieces' output, in order.
pub struct InOrder<'h, P: Pieces<'h>> {
    pieces: P,
    output: Option<Output<'h>>,
    failure: Option<(io::ErrorKind, String)>,
}

impl<'h, P: Pieces<'h>> InOrder<'h, P> {
    pub fn over(pieces: P) -> InOrder<'h, P> {
        InOrder {
            pieces,
            output: None,
            failure: None,
        }
    }

    /// The pieces' state, for the decoders' tests.
    #[cfg(test)]
    pub(crate) fn pieces(&self) -> &P {
        &self.pieces
    }
}

impl<'h, P: Pieces<'h>> Read for InOrder<'h, P> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some((kind, message)) = &self.failure {
                return Err(io::Error::new(*kind, message.clone()));
            }
            let n = match &mut self.output {
                Some(Output::Held(data, at)) => {
                    let n = (data.len() - *at).min(out.len());
                    out[..n].copy_from_slice(&data[*at..*at + n]);
                    *at += n;
                    n
                }
                Some(Output::Streaming(decoder)) => match decoder.read(out) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
                    Err(e) => {
                        self.fail(&e);
                        continue;
                    }
                },
                None => 0,
            };
            if n > 0 || out.is_empty() {
                return Ok(n);
            }
            // The piece read out is dropped before the next is waited for.
            self.output = None;
            match self.pieces.next_output() {
                Ok(Some(output)) => self.output = Some(output),
                Ok(None) => return Ok(0),
                Err(e) => self.fail(&e),
            }
        }
    }
}

impl<'h, P: Pieces<'h>> InOrder<'h, P> {
    /// Every later read gives this error; the decodes offered are no one's
    /// work any more.
    fn fail(&mut self, e: &io::Error) {
        self.failure = Some((e.kind(), e.to_string()));
        self.output = None;
        self.pieces.abandon();
    }
}

impl<'h, P: Pieces<'h>> Drop for InOrder<'h, P> {
    fn drop(&mut self) {
        self.pieces.abandon();
    }
}

/// Appends up to `most` bytes of `source` to `buf` (retrying where a read
/// is interrupted); how many, 0 at the end.
pub fn append_from(source: &mut impl Read, buf: &mut Vec<u8>, most: usize) -> io::Result<usize> {
    let old = buf.len();
    buf.resize(old + most, 0);
    let n = loop {
        match source.read(&mut buf[old..]) {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(old);
                return Err(e);
            }
        }
    };
    buf.truncate(old + n);
    Ok(n)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::{self, Read};

    /// `decode(window, read_size)` gives `data` with reads of every size
    /// from 1 byte to `up_to` and a few larger, one and three pieces ahead.
    pub(crate) fn check_reads_of_any_size<R: Read>(
        data: &[u8],
        up_to: usize,
        decode: impl Fn(usize, usize) -> R,
    ) {
        for read_size in (1..=up_to).chain([97, 1000, 4096]) {
            for window in [1, 3] {
                let mut out = Vec::new();
                let result: io::Result<usize> = decode(window, read_size).read_to_end(&mut out);
                result.unwrap_or_else(|e| panic!("reads of {read_size}: {e}"));
                assert!(out == data, "reads of {read_size}");
            }
        }
    }

    /// Log-like text of `lines` lines, for the decoders' tests.
    pub(crate) fn text(lines: u32) -> Vec<u8> {
        (0..lines)
            .flat_map(|n| {
                format!("{n} Sep 21 host dovecot: line {}\n", n * 7919 % 10007).into_bytes()
            })
            .collect()
    }
}
