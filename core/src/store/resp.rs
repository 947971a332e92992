//! The Redis protocol (RESP2), strictly: commands are written as arrays of
//! bulk strings, replies are parsed with bounded sizes and depth, and
//! anything malformed ends the connection rather than being guessed at.

/// One reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Simple(Vec<u8>),
    Error(Vec<u8>),
    Int(i64),
    /// `None` is the nil bulk string (`$-1`).
    Bulk(Option<Vec<u8>>),
    /// `None` is the nil array (`*-1`).
    Array(Option<Vec<Value>>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// A reply starting with a byte that is no RESP2 type.
    Type(u8),
    /// A length or integer that is not a canonical decimal.
    Number,
    /// A line or bulk string not ended by CRLF.
    Terminator,
    /// Over [`MAX_BULK`], [`MAX_ITEMS`] or [`MAX_DEPTH`].
    TooLarge,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::Type(b) => write!(f, "unexpected reply type 0x{b:02x}"),
            ParseError::Number => f.write_str("malformed number in reply"),
            ParseError::Terminator => f.write_str("malformed line ending in reply"),
            ParseError::TooLarge => f.write_str("reply too large"),
        }
    }
}

/// The longest bulk string accepted: user names and stream ids are short.
pub const MAX_BULK: usize = 64 * 1024;
/// The most elements in one array (a start-up load of many cut-offs).
pub const MAX_ITEMS: usize = 1 << 21;
/// Nesting: XREAD's reply is four levels deep.
pub const MAX_DEPTH: usize = 6;
/// The longest simple string, error or number line.
const MAX_LINE: usize = 4096;

/// Appends one command, every argument as a bulk string.
pub fn encode(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.push(b'*');
    out.extend_from_slice(args.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in args {
        out.push(b'$');
        out.extend_from_slice(a.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// The first complete reply in `buf` and the bytes it took; `Ok(None)` if
/// more bytes are needed.
pub fn parse(buf: &[u8]) -> Result<Option<(Value, usize)>, ParseError> {
    parse_at(buf, 0, 0)
}

fn parse_at(buf: &[u8], pos: usize, depth: usize) -> Result<Option<(Value, usize)>, ParseError> {
    if depth > MAX_DEPTH {
        return Err(ParseError::TooLarge);
    }
    let Some(&kind) = buf.get(pos) else {
        return Ok(None);
    };
    let Some((line, next)) = line(buf, pos + 1)? else {
        return Ok(None);
    };
    match kind {
        b'+' => Ok(Some((Value::Simple(line.to_vec()), next))),
        b'-' => Ok(Some((Value::Error(line.to_vec()), next))),
        b':' => Ok(Some((Value::Int(number(line)?), next))),
        b'$' => {
            let Some(len) = length(line)? else {
                return Ok(Some((Value::Bulk(None), next)));
            };
            if len > MAX_BULK {
                return Err(ParseError::TooLarge);
            }
            let end = next + len;
            let Some(tail) = buf.get(end..end + 2) else {
                return Ok(None);
            };
            if tail != b"\r\n" {
                return Err(ParseError::Terminator);
            }
            let data = buf.get(next..end).ok_or(ParseError::Terminator)?;
            Ok(Some((Value::Bulk(Some(data.to_vec())), end + 2)))
        }
        b'*' => {
            let Some(len) = length(line)? else {
                return Ok(Some((Value::Array(None), next)));
            };
            if len > MAX_ITEMS {
                return Err(ParseError::TooLarge);
            }
            // Each element takes at least 3 bytes: no allocation is made
            // for more elements than could possibly have arrived.
            let mut items = Vec::with_capacity(len.min(buf.len().saturating_sub(next) / 3));
            let mut at = next;
            for _ in 0..len {
                let Some((v, n)) = parse_at(buf, at, depth + 1)? else {
                    return Ok(None);
                };
                items.push(v);
                at = n;
            }
            Ok(Some((Value::Array(Some(items)), at)))
        }
        other => Err(ParseError::Type(other)),
    }
}

/// The line starting at `pos`, up to its CRLF, and where the next starts.
fn line(buf: &[u8], pos: usize) -> Result<Option<(&[u8], usize)>, ParseError> {
    let rest = buf.get(pos..).unwrap_or_default();
    let window = rest.get(..rest.len().min(MAX_LINE + 2)).unwrap_or(rest);
    match memchr::memchr2(b'\r', b'\n', window) {
        Some(i) => {
            if window.get(i) != Some(&b'\r') {
                return Err(ParseError::Terminator);
            }
            match window.get(i + 1) {
                None => Ok(None),
                Some(b'\n') => Ok(Some((window.get(..i).unwrap_or_default(), pos + i + 2))),
                Some(_) => Err(ParseError::Terminator),
            }
        }
        None if window.len() > MAX_LINE => Err(ParseError::TooLarge),
        None => Ok(None),
    }
}

/// A canonical decimal: no sign but one `-`, no leading zeros, no blanks.
fn number(line: &[u8]) -> Result<i64, ParseError> {
    let (neg, digits) = match line.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, line),
    };
    if digits.is_empty()
        || !digits.iter().all(u8::is_ascii_digit)
        || (digits.len() > 1 && digits.first() == Some(&b'0'))
        || (neg && digits == b"0")
    {
        return Err(ParseError::Number);
    }
    let mut v: i64 = 0;
    for d in digits {
        let d = i64::from(d - b'0');
        v = v.checked_mul(10).ok_or(ParseError::Number)?;
        v = if neg {
            v.checked_sub(d)
        } else {
            v.checked_add(d)
        }
        .ok_or(ParseError::Number)?;
    }
    Ok(v)
}

/// A length: `-1` is nil, other negatives are refused.
fn length(line: &[u8]) -> Result<Option<usize>, ParseError> {
    match number(line)? {
        -1 => Ok(None),
        n => usize::try_from(n).map(Some).map_err(|_| ParseError::Number),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &[u8]) -> Value {
        let (v, n) = parse(s).unwrap().unwrap();
        assert_eq!(n, s.len(), "{}", String::from_utf8_lossy(s));
        v
    }

    #[test]
    fn encodes_bulk_arrays() {
        let mut out = Vec::new();
        encode(&mut out, &[b"ZADD", b"k", b"GT", b"12", b"m\r\nx"]);
        assert_eq!(
            out,
            b"*5\r\n$4\r\nZADD\r\n$1\r\nk\r\n$2\r\nGT\r\n$2\r\n12\r\n$4\r\nm\r\nx\r\n"
        );
        encode(&mut out, &[b""]);
        assert!(out.ends_with(b"*1\r\n$0\r\n\r\n"));
    }

    #[test]
    fn parses_every_type() {
        assert_eq!(one(b"+OK\r\n"), Value::Simple(b"OK".to_vec()));
        assert_eq!(one(b"-ERR no\r\n"), Value::Error(b"ERR no".to_vec()));
        assert_eq!(one(b":42\r\n"), Value::Int(42));
        assert_eq!(one(b":-7\r\n"), Value::Int(-7));
        assert_eq!(one(b":0\r\n"), Value::Int(0));
        assert_eq!(one(b"$-1\r\n"), Value::Bulk(None));
        assert_eq!(one(b"$0\r\n\r\n"), Value::Bulk(Some(vec![])));
        assert_eq!(
            one(b"$4\r\na\r\nb\r\n"),
            Value::Bulk(Some(b"a\r\nb".to_vec()))
        );
        assert_eq!(one(b"*-1\r\n"), Value::Array(None));
        assert_eq!(one(b"*0\r\n"), Value::Array(Some(vec![])));
        assert_eq!(
            one(b"*2\r\n*1\r\n:1\r\n$1\r\nx\r\n"),
            Value::Array(Some(vec![
                Value::Array(Some(vec![Value::Int(1)])),
                Value::Bulk(Some(b"x".to_vec()))
            ]))
        );
    }

    #[test]
    fn incomplete_waits_and_pipelines_split() {
        let all = b"*2\r\n$3\r\nabc\r\n:5\r\n+OK\r\n";
        for cut in 0..all.len() - 5 {
            assert_eq!(parse(&all[..cut]), Ok(None), "cut at {cut}");
        }
        let (_, n) = parse(all).unwrap().unwrap();
        assert_eq!(
            parse(&all[n..]).unwrap().unwrap().0,
            Value::Simple(b"OK".to_vec())
        );
        assert_eq!(parse(b"$3\r\nabc\r"), Ok(None));
    }

    #[test]
    fn refuses_the_malformed() {
        for bad in [
            &b"!x\r\n"[..],
            b"+OK\n",
            b"+O\rK\r\n",
            b":+1\r\n",
            b":01\r\n",
            b":-0\r\n",
            b": 1\r\n",
            b":\r\n",
            b":99999999999999999999\r\n",
            b"$-2\r\n",
            b"$3\r\nabcd\r\n",
            b"*-5\r\n",
            b"$70000\r\n",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let long = [b"+".as_slice(), &[b'a'; MAX_LINE + 10]].concat();
        assert_eq!(parse(&long), Err(ParseError::TooLarge));
        let deep = b"*1\r\n".repeat(MAX_DEPTH + 2);
        assert_eq!(parse(&deep), Err(ParseError::TooLarge));
        // A huge announced array allocates nothing up front.
        assert_eq!(parse(b"*2000000\r\n"), Ok(None));
        assert_eq!(parse(b"*3000000\r\n"), Err(ParseError::TooLarge));
    }
}
