//! Opening an input file: format detection (CSV, gzip'd CSV, Parquet), a
//! streaming gzip decoder, the SHA-256 of the file, and a UTF-8 and line
//! count pass that names the line of the first bad byte. Memory stays
//! bounded whatever the file size.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use super::errors::ImportError;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
}

/// A file ready for polars: a plain CSV or Parquet path (a decompressed
/// temporary copy for gzip), its hash and size.
pub struct Prepared {
    pub format: Format,
    pub path: PathBuf,
    /// Keeps a decompressed copy alive until the import ends.
    _temp: Option<tempfile::TempPath>,
    /// SHA-256 of the file as given (compressed, if it was).
    pub sha256: String,
    /// Data lines after the header (CSV; quoted newlines count as lines).
    /// Zero when the text check was deferred.
    pub lines: u64,
    pub bytes: u64,
    /// Whether the UTF-8 and line-count pass ran (see [`prepare_deferred`]).
    pub checked: bool,
    /// The hash being computed in the background, if it is.
    pending_hash: Option<std::thread::JoinHandle<std::io::Result<String>>>,
}

impl Prepared {
    /// The SHA-256 of the file, waiting for a background hash to finish.
    pub fn finish_hash(&mut self, file: &str) -> Result<String, ImportError> {
        if let Some(handle) = self.pending_hash.take() {
            self.sha256 = handle
                .join()
                .map_err(|_| ImportError::Io {
                    file: file.to_string(),
                    message: "hashing the file failed".to_string(),
                })?
                .map_err(|e| ImportError::Io {
                    file: file.to_string(),
                    message: e.to_string(),
                })?;
        }
        Ok(self.sha256.clone())
    }
}

/// Like [`prepare`], but for a plain CSV or Parquet file skips the UTF-8
/// and line-count pass and hashes in a background thread, so a large
/// file is read once by polars while it is hashed. Call [`locate_invalid_utf8`]
/// when polars refuses the text.
pub fn prepare_deferred(
    path: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<Prepared, ImportError> {
    let file = label(path);
    let io = |e: std::io::Error| ImportError::Io {
        file: file.clone(),
        message: e.to_string(),
    };
    let mut f = File::open(path).map_err(io)?;
    let size = f.metadata().map_err(io)?.len();
    if size == 0 {
        return Err(ImportError::Empty { file });
    }
    let mut magic = [0u8; 2];
    let n = f.read(&mut magic).map_err(io)?;
    if n == 2 && magic == [0x1f, 0x8b] {
        return prepare(path, progress);
    }
    let owned = path.to_path_buf();
    let handle = std::thread::spawn(move || hash_file(&owned, &mut |_| {}));
    Ok(Prepared {
        format: if is_parquet(path) {
            Format::Parquet
        } else {
            Format::Csv
        },
        path: path.to_path_buf(),
        _temp: None,
        sha256: String::new(),
        lines: 0,
        bytes: size,
        checked: false,
        pending_hash: Some(handle),
    })
}

fn is_parquet(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|_| &magic == b"PAR1")
}

/// The line and byte offset of the first invalid UTF-8 in a text file, if
/// any (to explain a refusal by the CSV reader).
pub fn locate_invalid_utf8(path: &Path) -> Option<(u64, u64)> {
    let mut reader = BufReader::with_capacity(CHUNK, File::open(path).ok()?);
    match check_text("", &mut reader, None, &mut |_| {}, false) {
        Err(ImportError::Encoding { line, offset, .. }) => Some((line, offset)),
        _ => None,
    }
}

const CHUNK: usize = 1 << 20;

/// Name used in messages: the path as the user gave it.
pub fn label(path: &Path) -> String {
    path.display().to_string()
}

/// Opens, checks and (for gzip) decompresses `path`. `progress(bytes)` is
/// called as the file is read.
pub fn prepare(path: &Path, progress: &mut dyn FnMut(u64)) -> Result<Prepared, ImportError> {
    let file = label(path);
    let io = |e: std::io::Error| ImportError::Io {
        file: file.clone(),
        message: e.to_string(),
    };
    let mut f = File::open(path).map_err(io)?;
    let size = f.metadata().map_err(io)?.len();
    if size == 0 {
        return Err(ImportError::Empty { file });
    }
    let mut magic = [0u8; 4];
    let n = f.read(&mut magic).map_err(io)?;
    drop(f);
    let gzip = n >= 2 && magic[..2] == [0x1f, 0x8b];
    let parquet = n == 4 && &magic == b"PAR1";

    if parquet {
        let sha256 = hash_file(path, progress).map_err(io)?;
        return Ok(Prepared {
            format: Format::Parquet,
            path: path.to_path_buf(),
            _temp: None,
            sha256,
            lines: 0,
            bytes: size,
            checked: true,
            pending_hash: None,
        });
    }

    let hashing = HashingReader {
        inner: BufReader::with_capacity(CHUNK, File::open(path).map_err(io)?),
        hasher: Sha256::new(),
        read: 0,
    };
    if gzip {
        let mut decoder = MultiGzDecoder::new(hashing);
        let temp = tempfile::Builder::new()
            .prefix("finops-import-")
            .suffix(".csv")
            .tempfile()
            .map_err(io)?;
        let (mut out, temp_path) = temp.into_parts();
        let lines = check_text(&file, &mut decoder, Some(&mut out), progress, true)?;
        out.flush().map_err(io)?;
        let hashing = decoder.into_inner();
        Ok(Prepared {
            format: Format::Csv,
            path: temp_path.to_path_buf(),
            _temp: Some(temp_path),
            sha256: hex(hashing.hasher.finalize().as_slice()),
            lines,
            bytes: size,
            checked: true,
            pending_hash: None,
        })
    } else {
        let mut reader = hashing;
        let lines = check_text(&file, &mut reader, None, progress, false)?;
        Ok(Prepared {
            format: Format::Csv,
            path: path.to_path_buf(),
            _temp: None,
            sha256: hex(reader.hasher.finalize().as_slice()),
            lines,
            bytes: size,
            checked: true,
            pending_hash: None,
        })
    }
}

struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    read: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.read += n as u64;
        Ok(n)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash_file(path: &Path, progress: &mut dyn FnMut(u64)) -> std::io::Result<String> {
    let mut f = BufReader::with_capacity(CHUNK, File::open(path)?);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
        progress(total);
    }
    Ok(hex(hasher.finalize().as_slice()))
}

/// Reads all text from `reader`, copying it to `copy` if given; checks it
/// is UTF-8 and counts lines. Returns the number of data lines (lines after
/// the first, not counting a final empty line).
fn check_text(
    file: &str,
    reader: &mut dyn Read,
    mut copy: Option<&mut File>,
    progress: &mut dyn FnMut(u64),
    gzip: bool,
) -> Result<u64, ImportError> {
    let mut buf = vec![0u8; CHUNK];
    let mut carry: Vec<u8> = Vec::new();
    let mut newlines: u64 = 0;
    let mut offset: u64 = 0;
    let mut last_byte: Option<u8> = None;
    let mut total: u64 = 0;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(n) => n,
            Err(e) if gzip => {
                return Err(ImportError::Gzip {
                    file: file.to_string(),
                    message: e.to_string(),
                })
            }
            Err(e) => {
                return Err(ImportError::Io {
                    file: file.to_string(),
                    message: e.to_string(),
                })
            }
        };
        if n == 0 {
            break;
        }
        total += n as u64;
        progress(total);
        if let Some(out) = copy.as_deref_mut() {
            out.write_all(&buf[..n]).map_err(|e| ImportError::Io {
                file: file.to_string(),
                message: e.to_string(),
            })?;
        }
        carry.extend_from_slice(&buf[..n]);
        let valid = match std::str::from_utf8(&carry) {
            Ok(_) => carry.len(),
            Err(e) => match e.error_len() {
                // An incomplete sequence at the end: wait for more bytes.
                None => e.valid_up_to(),
                Some(_) => {
                    let at = e.valid_up_to();
                    let line = newlines + count_newlines(&carry[..at]) + 1;
                    return Err(ImportError::Encoding {
                        file: file.to_string(),
                        line,
                        offset: offset + at as u64,
                    });
                }
            },
        };
        newlines += count_newlines(&carry[..valid]);
        if valid > 0 {
            last_byte = Some(carry[valid - 1]);
        }
        offset += valid as u64;
        carry.drain(..valid);
    }
    if !carry.is_empty() {
        return Err(ImportError::Encoding {
            file: file.to_string(),
            line: newlines + 1,
            offset,
        });
    }
    if total == 0 {
        return Err(ImportError::Empty {
            file: file.to_string(),
        });
    }
    // Lines = newlines, plus one if the last line has no newline.
    let lines = newlines + u64::from(last_byte != Some(b'\n'));
    Ok(lines.saturating_sub(1))
}

fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|b| **b == b'\n').count() as u64
}

/// A small text file (a calendar, a scenario), checked like any import,
/// and its text.
pub fn prepared_text(path: &Path, label: &str) -> Result<(Prepared, String), ImportError> {
    let prepared = prepare(path, &mut |_| {})?;
    let text = std::fs::read_to_string(&prepared.path).map_err(|e| ImportError::Io {
        file: label.to_string(),
        message: e.to_string(),
    })?;
    Ok((prepared, text))
}

/// A parser's error for the file `label` as an import error, without the
/// file name the parser already put in front.
pub fn format_error(label: &str, error: impl std::fmt::Display) -> ImportError {
    let text = error.to_string();
    ImportError::Format {
        file: label.to_string(),
        message: text
            .strip_prefix(&format!("{label}: "))
            .map(str::to_string)
            .unwrap_or(text.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(bytes: &[u8], suffix: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    #[test]
    fn counts_lines_and_hashes() {
        let f = write(b"a,b\n1,2\n3,4\n", ".csv");
        let p = prepare(f.path(), &mut |_| {}).unwrap();
        assert_eq!(p.format, Format::Csv);
        assert_eq!(p.lines, 2);
        assert_eq!(p.sha256.len(), 64);
        let f = write(b"a,b\n1,2", ".csv");
        assert_eq!(prepare(f.path(), &mut |_| {}).unwrap().lines, 1);
    }

    #[test]
    fn names_the_line_of_invalid_utf8() {
        let f = write(b"a,b\n1,2\n3,\xff\n", ".csv");
        let e = prepare(f.path(), &mut |_| {}).err().unwrap();
        assert!(
            matches!(
                e,
                ImportError::Encoding {
                    line: 3,
                    offset: 10,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn decompresses_gzip_and_detects_truncation() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"a,b\n1,2\n3,4\n").unwrap();
        let gz = enc.finish().unwrap();
        let f = write(&gz, ".csv.gz");
        let p = prepare(f.path(), &mut |_| {}).unwrap();
        assert_eq!(std::fs::read_to_string(&p.path).unwrap(), "a,b\n1,2\n3,4\n");
        assert_eq!(p.lines, 2);
        let f = write(&gz[..gz.len() - 9], ".csv.gz");
        assert!(matches!(
            prepare(f.path(), &mut |_| {}),
            Err(ImportError::Gzip { .. })
        ));
    }

    #[test]
    fn refuses_empty_files() {
        let f = write(b"", ".csv");
        assert!(matches!(
            prepare(f.path(), &mut |_| {}),
            Err(ImportError::Empty { .. })
        ));
    }
}
