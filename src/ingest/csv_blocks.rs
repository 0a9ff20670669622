//! A large CSV file cut into blocks of whole records, so that each block
//! is parsed and summed on its own while the next is read.
//!
//! Polars' CSV readers find record boundaries with a byte-at-a-time scan
//! on stable Rust (their vectorised scan needs nightly), in one thread
//! ahead of the parsers; on a 2-core machine that scan was a fifth of an
//! import. Here one thread reads the file and finds boundaries with
//! `memchr` (vectorised on stable), and the blocks go to polars' in-memory
//! reader, whose parsing is parallel.
//!
//! A boundary is a line end outside double quotes (RFC 4180: a quote
//! inside a quoted field is doubled, so counting quotes tells whether a
//! line end is inside a field). Each block starts outside quotes because
//! the one before it ended on a boundary.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver};

/// Bytes read per block (a block ends at the last boundary inside it).
pub const BLOCK_BYTES: usize = 32 * 1024 * 1024;

/// Where the last record of `bytes` ends (one past its line end), scanning
/// from outside quotes; `None` if no line end is outside quotes.
pub fn last_boundary(bytes: &[u8]) -> Option<usize> {
    let mut in_quotes = false;
    let mut last = None;
    for at in memchr::memchr2_iter(b'"', b'\n', bytes) {
        if bytes[at] == b'"' {
            in_quotes = !in_quotes;
        } else if !in_quotes {
            last = Some(at + 1);
        }
    }
    last
}

/// Where the first record of `bytes` ends (one past its line end), or
/// `None` if it does not end in `bytes`.
pub fn first_boundary(bytes: &[u8]) -> Option<usize> {
    let mut in_quotes = false;
    for at in memchr::memchr2_iter(b'"', b'\n', bytes) {
        if bytes[at] == b'"' {
            in_quotes = !in_quotes;
        } else if !in_quotes {
            return Some(at + 1);
        }
    }
    None
}

/// Reads `reader` and returns its records (after the header line) in
/// blocks of about `block` bytes that each end on a record boundary. The
/// last block holds whatever follows the last boundary too (a final record
/// without a line end, or an unterminated quote, which the parser then
/// reports).
pub struct Blocks<R> {
    reader: R,
    block: usize,
    carry: Vec<u8>,
    header_skipped: bool,
    done: bool,
}

impl<R: Read> Blocks<R> {
    pub fn new(reader: R, block: usize) -> Blocks<R> {
        Blocks {
            reader,
            block: block.max(1),
            carry: Vec::new(),
            header_skipped: false,
            done: false,
        }
    }

    /// Reads until `buf` holds `want` bytes or the input ends; whether it
    /// ended. (`read_to_end` reads into the spare capacity without zeroing
    /// it first.)
    fn fill(&mut self, buf: &mut Vec<u8>, want: usize) -> std::io::Result<bool> {
        while buf.len() < want {
            let missing = (want - buf.len()) as u64;
            if (&mut self.reader).take(missing).read_to_end(buf)? == 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The next block of whole records, `None` at the end.
    pub fn next_block(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        let mut buf = std::mem::take(&mut self.carry);
        let mut want = self.block.max(buf.len() + 1);
        loop {
            let ended = self.fill(&mut buf, want)?;
            if !self.header_skipped {
                match first_boundary(&buf) {
                    Some(end) => {
                        buf.drain(..end);
                        self.header_skipped = true;
                    }
                    None if ended => {
                        // A header alone: no records.
                        self.done = true;
                        return Ok(None);
                    }
                    None => {
                        want = want.saturating_mul(2);
                        continue;
                    }
                }
            }
            if ended {
                self.done = true;
                return Ok((!buf.is_empty()).then_some(buf));
            }
            match last_boundary(&buf) {
                Some(end) => {
                    self.carry = buf.split_off(end);
                    return Ok(Some(buf));
                }
                // One record longer than a block: read on.
                None => want = want.saturating_mul(2),
            }
        }
    }
}

/// Reads `path`'s record blocks on a thread of their own, one block
/// ahead of the consumer (so at most three blocks are in memory).
pub fn read_ahead(
    path: &Path,
    block: usize,
) -> std::io::Result<Receiver<std::io::Result<Vec<u8>>>> {
    let file = File::open(path)?;
    let (tx, rx) = sync_channel(1);
    std::thread::Builder::new()
        .name("csv-blocks".to_string())
        .spawn(move || {
            let mut blocks = Blocks::new(file, block);
            loop {
                let next = blocks.next_block().transpose();
                let Some(next) = next else { break };
                let failed = next.is_err();
                if tx.send(next).is_err() || failed {
                    break;
                }
            }
        })?;
    Ok(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_blocks(text: &str, block: usize) -> Vec<String> {
        let mut blocks = Blocks::new(text.as_bytes(), block);
        let mut out = Vec::new();
        while let Some(b) = blocks.next_block().unwrap() {
            out.push(String::from_utf8(b).unwrap());
        }
        out
    }

    #[test]
    fn blocks_end_on_records_and_skip_the_header() {
        let rows: String = (0..20).map(|i| format!("{i},{}\n", i * 2)).collect();
        let text = format!("a,b\n{rows}");
        let blocks = all_blocks(&text, 8);
        assert_eq!(blocks.concat(), rows);
        assert!(blocks.iter().all(|b| b.ends_with('\n')), "{blocks:?}");
        assert!(blocks.len() > 1, "{blocks:?}");
    }

    #[test]
    fn a_line_end_inside_quotes_is_not_a_boundary() {
        // The quoted field spans lines and holds a doubled quote.
        let text = "a,b\n1,\"x\ny\"\"z\nw\"\n2,3\n";
        for block in 1..text.len() + 2 {
            let blocks = all_blocks(text, block);
            assert_eq!(
                blocks.concat(),
                "1,\"x\ny\"\"z\nw\"\n2,3\n",
                "block {block}"
            );
            for b in &blocks {
                assert!(
                    b == "1,\"x\ny\"\"z\nw\"\n" || b == "2,3\n" || b == "1,\"x\ny\"\"z\nw\"\n2,3\n",
                    "block {block}: {b:?}"
                );
            }
        }
    }

    #[test]
    fn a_last_record_without_line_end_and_a_header_only_file() {
        assert_eq!(all_blocks("a,b\n1,2\n3,4", 1000), ["1,2\n3,4"]);
        assert!(all_blocks("a,b\n", 1000).is_empty());
        assert!(all_blocks("a,b", 1000).is_empty());
        // CRLF line ends split on the LF; the parser drops the CR.
        assert_eq!(all_blocks("a,b\r\n1,2\r\n", 1000), ["1,2\r\n"]);
    }

    #[test]
    fn a_header_with_a_quoted_line_end_is_skipped_whole() {
        assert_eq!(all_blocks("\"a\nb\",c\n1,2\n", 3), ["1,2\n"]);
    }
}
