//! Where requests come from: lines of input, and whether more is waiting. A call that waits
//! (acp_wait_session) looks at the input between polls, so it can see its own cancellation
//! without a second thread; whatever else arrives meanwhile is kept and served after it.

use crate::jsonrpc::{self, Line};
use serde_json::Value;
use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader};
use std::time::{Duration, Instant};

/// Lines of JSON-RPC, and a way to wait for the next one with a timeout.
pub trait Input: BufRead {
    /// Wait up to `timeout`; true when a read would not block (data, or end of input).
    fn wait(&mut self, timeout: Duration) -> bool;
}

/// In-memory input (tests, fuzzing) never blocks.
impl Input for &[u8] {
    fn wait(&mut self, _: Duration) -> bool {
        true
    }
}

impl Input for io::Cursor<Vec<u8>> {
    fn wait(&mut self, _: Duration) -> bool {
        true
    }
}

/// Standard input through our own buffer: a line already buffered is seen without a system
/// call, and the descriptor is polled otherwise.
pub struct Stdin {
    reader: BufReader<std::fs::File>,
}

impl Stdin {
    /// A duplicate of descriptor 0, so std's own (hidden) stdin buffer is never in the way.
    pub fn open() -> io::Result<Stdin> {
        use std::os::fd::AsFd;
        let fd = io::stdin().as_fd().try_clone_to_owned()?;
        Ok(Stdin { reader: BufReader::with_capacity(64 * 1024, std::fs::File::from(fd)) })
    }
}

impl io::Read for Stdin {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
}

impl BufRead for Stdin {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.reader.fill_buf()
    }
    fn consume(&mut self, amount: usize) {
        self.reader.consume(amount)
    }
}

impl Input for Stdin {
    fn wait(&mut self, timeout: Duration) -> bool {
        use std::os::fd::AsRawFd;
        !self.reader.buffer().is_empty() || readable(self.reader.get_ref().as_raw_fd(), timeout)
    }
}

#[cfg(unix)]
fn readable(fd: i32, timeout: Duration) -> bool {
    #[repr(C)]
    struct PollFd {
        fd: i32,
        events: i16,
        revents: i16,
    }
    unsafe extern "C" {
        /// POSIX poll(2).
        fn poll(fds: *mut PollFd, nfds: std::ffi::c_ulong, timeout: i32) -> i32;
    }
    const POLLIN: i16 = 1;
    let mut fds = PollFd { fd, events: POLLIN, revents: 0 };
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: one valid, exclusively borrowed pollfd, and nfds = 1.
    let n = unsafe { poll(&mut fds, 1, ms) };
    // Data, end of input (POLLHUP) and errors all mean a read will not block. An interrupted
    // poll (n < 0) reports nothing ready; the caller's deadline bounds the retries.
    n > 0 && fds.revents != 0
}

#[cfg(not(unix))]
fn readable(_: i32, timeout: Duration) -> bool {
    std::thread::sleep(timeout);
    false
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The time passed.
    Elapsed,
    /// The client cancelled the request being served.
    Cancelled,
    /// The input ended: the client is gone.
    Closed,
}

/// Lines read while a call waited, served in order once it has answered.
#[derive(Default)]
pub struct Inbox {
    lines: VecDeque<(Line, Vec<u8>)>,
    closed: bool,
    /// The request being served was cancelled: every later look says so, until the next line.
    cancelled: Option<Value>,
}

/// Most lines kept while a call waits; after that the input is left unread until it ends.
const MAX_KEPT: usize = 64;

impl Inbox {
    /// The next line: a kept one first, else one read from `input`.
    pub fn next(&mut self, input: &mut impl Input, buf: &mut Vec<u8>) -> io::Result<Line> {
        self.cancelled = None;
        if let Some((line, bytes)) = self.lines.pop_front() {
            *buf = bytes;
            return Ok(line);
        }
        match self.closed {
            true => Ok(Line::Eof),
            false => jsonrpc::read_line(input, buf, jsonrpc::MAX_LINE),
        }
    }

    /// Wait up to `timeout` while request `id` runs, keeping what arrives; stop early if the
    /// client cancels `id` or goes away. A zero `timeout` still looks at what has arrived.
    pub fn wait(&mut self, input: &mut impl Input, timeout: Duration, id: Option<&Value>) -> Wake {
        let deadline = Instant::now() + timeout;
        loop {
            if id.is_some_and(|id| self.cancelled.as_ref() == Some(id)) {
                return Wake::Cancelled;
            }
            if self.closed {
                return Wake::Closed;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            // A look (zero timeout) reads what is there; a wait ends at its time.
            if left.is_zero() && !timeout.is_zero() {
                return Wake::Elapsed;
            }
            if self.lines.len() >= MAX_KEPT {
                std::thread::sleep(left);
                return Wake::Elapsed;
            }
            if !input.wait(left) {
                match left.is_zero() {
                    true => return Wake::Elapsed,
                    false => continue,
                }
            }
            let mut buf = Vec::new();
            match jsonrpc::read_line(input, &mut buf, jsonrpc::MAX_LINE) {
                Ok(Line::Eof) | Err(_) => self.closed = true,
                Ok(Line::Complete) if id.is_some_and(|id| cancels(&buf, id)) => self.cancelled = id.cloned(),
                Ok(line) => self.lines.push_back((line, buf)),
            }
        }
    }
}

/// Is this line the client's cancellation of request `id`?
fn cancels(line: &[u8], id: &Value) -> bool {
    let Ok(message) = serde_json::from_slice::<Value>(line) else { return false };
    message["method"] == "notifications/cancelled" && message["params"]["requestId"] == *id
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_wait_keeps_other_lines_and_stops_at_its_cancellation() {
        let text = "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\"}\n\
                    {\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":8}}\n\
                    {\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":7}}\n\
                    {\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"ping\"}\n";
        let mut input = text.as_bytes();
        let mut inbox = Inbox::default();
        assert_eq!(inbox.wait(&mut input, Duration::from_secs(5), Some(&json!(7))), Wake::Cancelled);
        let mut buf = Vec::new();
        let mut seen = vec![];
        while let Ok(Line::Complete) = inbox.next(&mut input, &mut buf) {
            seen.push(serde_json::from_slice::<Value>(&buf).unwrap());
        }
        // The ping and another request's cancellation were kept, in order; then the rest.
        assert_eq!(seen.iter().map(|m| m["id"].clone()).collect::<Vec<_>>(), [json!(9), Value::Null, json!(10)]);
    }

    #[test]
    fn a_look_sees_a_cancellation_already_sent_and_remembers_it_until_the_next_line() {
        let text = "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\"}\n\
                    {\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":7}}\n";
        let mut input = text.as_bytes();
        let mut inbox = Inbox::default();
        assert_eq!(inbox.wait(&mut input, Duration::ZERO, Some(&json!(7))), Wake::Cancelled);
        assert_eq!(inbox.wait(&mut input, Duration::ZERO, Some(&json!(7))), Wake::Cancelled);
        assert!(matches!(inbox.next(&mut input, &mut Vec::new()), Ok(Line::Complete)));
        assert_eq!(inbox.wait(&mut input, Duration::ZERO, Some(&json!(7))), Wake::Closed);
    }

    #[test]
    fn a_wait_ends_when_the_input_does() {
        let mut input = "".as_bytes();
        let mut inbox = Inbox::default();
        assert_eq!(inbox.wait(&mut input, Duration::from_secs(5), Some(&json!(1))), Wake::Closed);
        assert!(matches!(inbox.next(&mut input, &mut Vec::new()), Ok(Line::Eof)));
    }
}
