//! Server-sent events as OpenAI-compatible servers stream a chat completion: `data:` lines,
//! events ended by a blank line, `[DONE]` at the end. Lines are read with a length cap, so a
//! server that never sends a newline cannot make us buffer without end.

use std::io::{self, BufRead};

/// Longest line accepted (a chunk carries a few tokens; 1 MiB is far more than any server sends).
pub const MAX_LINE: usize = 1 << 20;

/// One event's payload: the `data:` lines joined by newlines.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    Data(String),
    /// `data: [DONE]`: the stream is complete.
    Done,
}

/// Reads events from a stream, one at a time.
pub struct EventReader<R> {
    reader: R,
    line: Vec<u8>,
}

impl<R: BufRead> EventReader<R> {
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            line: Vec::new(),
        }
    }

    /// The stream, with what was buffered but not read yet.
    pub fn into_inner(self) -> R {
        self.reader
    }

    /// The next event, `None` at the end of the stream. A stream ending inside an event
    /// delivers what it had.
    pub fn next_event(&mut self) -> io::Result<Option<Event>> {
        let mut data: Option<String> = None;
        loop {
            if !read_line(&mut self.reader, &mut self.line, MAX_LINE)? {
                return Ok(data.map(Event::Data));
            }
            if self.line.is_empty() {
                match data.take() {
                    Some(d) if d == "[DONE]" => return Ok(Some(Event::Done)),
                    Some(d) => return Ok(Some(Event::Data(d))),
                    None => continue,
                }
            }
            let line = std::str::from_utf8(&self.line).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidData, "the stream is not UTF-8 text")
            })?;
            // Comments (`: ping`) keep connections alive; `event:`, `id:` and `retry:` say
            // nothing a chat completion needs.
            if let Some(value) = line.strip_prefix("data:") {
                let value = value.strip_prefix(' ').unwrap_or(value);
                match &mut data {
                    Some(d) => {
                        d.push('\n');
                        d.push_str(value);
                    }
                    None => data = Some(value.to_string()),
                }
            }
        }
    }
}

/// Reads one line (without its `\n` or `\r\n`) into `line`; `false` at the end of the stream
/// with nothing read. Longer than `max` bytes is an error.
pub fn read_line(reader: &mut impl BufRead, line: &mut Vec<u8>, max: usize) -> io::Result<bool> {
    line.clear();
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(!line.is_empty());
        }
        if let Some(end) = buf.iter().position(|&b| b == b'\n') {
            line.extend_from_slice(&buf[..end]);
            reader.consume(end + 1);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(true);
        }
        let n = buf.len();
        line.extend_from_slice(buf);
        reader.consume(n);
        if line.len() > max {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a line of the stream is longer than {max} bytes"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(text: &str) -> Vec<Event> {
        let mut reader = EventReader::new(io::BufReader::with_capacity(7, text.as_bytes()));
        let mut out = Vec::new();
        while let Some(e) = reader.next_event().unwrap() {
            out.push(e);
        }
        out
    }

    #[test]
    fn data_lines_comments_and_done() {
        let stream = ": ping\r\n\r\ndata: {\"a\":1}\r\n\r\nevent: x\ndata:{\"b\":2}\ndata: more\n\ndata: [DONE]\n\n";
        assert_eq!(
            events(stream),
            vec![
                Event::Data("{\"a\":1}".into()),
                Event::Data("{\"b\":2}\nmore".into()),
                Event::Done
            ]
        );
    }

    #[test]
    fn a_stream_cut_inside_an_event_delivers_what_it_had() {
        assert_eq!(events("data: {\"a\""), vec![Event::Data("{\"a\"".into())]);
        assert!(events("").is_empty());
    }

    #[test]
    fn an_endless_line_is_refused() {
        let endless = std::io::repeat(b'x');
        let mut reader = EventReader::new(io::BufReader::new(endless));
        let err = reader.next_event().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
