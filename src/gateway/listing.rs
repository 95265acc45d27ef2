//! Lists read off an API, bounded while they are parsed: a page with more items than were
//! asked for is refused, each item becomes a [`Session`] as it is read, each id is kept once
//! (the first wins), and no more is kept than fits [`KEPT_BYTES`]. One body is in memory at a
//! time; what a list keeps never grows with what a server sends.

use super::{Message, Session};
use serde::Deserializer;
use serde::de::{DeserializeOwned, DeserializeSeed, Error, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::{HashSet, VecDeque};
use std::fmt;

/// The most a list keeps of its sessions (estimated), across every page: far more than any
/// answer shows, and small enough that one call stays well under 64 MiB.
const KEPT_BYTES: usize = 16 * 1024 * 1024;
/// The newest messages of a session that are kept; older ones are counted, not kept.
pub const KEPT_MESSAGES: usize = 1000;

/// The sessions of one list so far.
pub struct Kept<'a> {
    /// Keep only this project's sessions (the ambient API's boundary); `None`: all.
    project: Option<&'a str>,
    pub sessions: Vec<Session>,
    /// Every id seen (of any project), so a repeat is not counted twice.
    seen: HashSet<String>,
    bytes: usize,
    /// Sessions were left out to stay within [`KEPT_BYTES`].
    pub full: bool,
    /// Of other projects, dropped.
    pub others: usize,
    /// Ids not seen before, on the last page read.
    pub new_on_page: usize,
}

impl<'a> Kept<'a> {
    pub fn new(project: Option<&'a str>) -> Kept<'a> {
        Kept { project, sessions: vec![], seen: HashSet::new(), bytes: 0, full: false, others: 0, new_on_page: 0 }
    }

    /// Distinct sessions seen, of any project.
    pub fn seen(&self) -> usize {
        self.seen.len()
    }

    fn keep(&mut self, s: Session) {
        if self.full || !self.seen.insert(s.id.clone()) {
            return;
        }
        self.new_on_page += 1;
        if self.project.is_some_and(|p| s.project.as_deref() != Some(p)) {
            self.others += 1;
            return;
        }
        let weight = weight(&s);
        match self.bytes + weight > KEPT_BYTES {
            true => self.full = true,
            false => {
                self.bytes += weight;
                self.sessions.push(s);
            }
        }
    }

    /// Read one page (`{"items": [...], "total": N}`) of at most `max` items of wire type `W`.
    /// `Ok` gives the page's `total` (if any) and its item count (`None`: no `items`).
    pub fn read<W>(&mut self, body: &[u8], max: usize) -> Result<(Option<usize>, Option<usize>), serde_json::Error>
    where
        W: DeserializeOwned + Into<Session>,
    {
        self.new_on_page = 0;
        let mut de = serde_json::Deserializer::from_slice(body);
        let page = PageSeed::<W> { kept: self, max, wire: std::marker::PhantomData }.deserialize(&mut de)?;
        de.end()?;
        Ok(page)
    }
}

/// About what a session takes in memory: its strings, and a little for each part.
fn weight(s: &Session) -> usize {
    let opt = |v: &Option<String>| v.as_ref().map_or(0, String::len);
    let labels: usize = s.labels.iter().map(|(k, v)| k.len() + v.len() + 64).sum();
    let repos: usize = s.repos.iter().map(|r| r.url.len() + opt(&r.branch) + 64).sum();
    let strings = [&s.project, &s.display_name, &s.model, &s.parent_session_id, &s.created_at, &s.started_at]
        .into_iter()
        .chain([&s.completed_at, &s.result, &s.error])
        .map(opt)
        .sum::<usize>();
    std::mem::size_of::<Session>() + 256 + s.id.len() + s.status.len() + s.task.len() + strings + labels + repos
}

struct PageSeed<'k, 'a, W> {
    kept: &'k mut Kept<'a>,
    max: usize,
    wire: std::marker::PhantomData<W>,
}

impl<'de, W: DeserializeOwned + Into<Session>> DeserializeSeed<'de> for PageSeed<'_, '_, W> {
    type Value = (Option<usize>, Option<usize>);

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, W: DeserializeOwned + Into<Session>> Visitor<'de> for PageSeed<'_, '_, W> {
    type Value = (Option<usize>, Option<usize>);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a page of sessions")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut total, mut items) = (None, None);
        while let Some(key) = map.next_key::<std::borrow::Cow<str>>()? {
            match key.as_ref() {
                "total" => total = Some(map.next_value::<usize>()?),
                "items" if items.is_none() => {
                    let seed = Items::<W> { kept: &mut *self.kept, max: self.max, wire: self.wire };
                    items = Some(map.next_value_seed(seed)?);
                }
                _ => drop(map.next_value::<IgnoredAny>()?),
            }
        }
        Ok((total, items))
    }
}

struct Items<'k, 'a, W> {
    kept: &'k mut Kept<'a>,
    max: usize,
    wire: std::marker::PhantomData<W>,
}

impl<'de, W: DeserializeOwned + Into<Session>> DeserializeSeed<'de> for Items<'_, '_, W> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, W: DeserializeOwned + Into<Session>> Visitor<'de> for Items<'_, '_, W> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a list of at most {} sessions", self.max)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut count = 0;
        while let Some(w) = seq.next_element::<W>()? {
            count += 1;
            if count > self.max {
                return Err(A::Error::custom(format!(
                    "a page held more than the {} sessions asked for, so the whole list was refused",
                    self.max
                )));
            }
            self.kept.keep(w.into());
        }
        Ok(count)
    }
}

/// The messages of one answer: the newest [`KEPT_MESSAGES`], oldest first, and how many there
/// were in all.
pub fn newest_messages<W>(body: &[u8]) -> Result<(Vec<Message>, usize), serde_json::Error>
where
    W: DeserializeOwned + Into<Message>,
{
    struct Newest<W>(std::marker::PhantomData<W>);
    impl<'de, W: DeserializeOwned + Into<Message>> Visitor<'de> for Newest<W> {
        type Value = (Vec<Message>, usize);
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of messages")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let (mut kept, mut count) = (VecDeque::new(), 0);
            while let Some(w) = seq.next_element::<W>()? {
                count += 1;
                if kept.len() == KEPT_MESSAGES {
                    kept.pop_front();
                }
                kept.push_back(w.into());
            }
            Ok((kept.into(), count))
        }
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let out = de.deserialize_seq(Newest::<W>(std::marker::PhantomData))?;
    de.end()?;
    Ok(out)
}

/// A JSON list of at most `N` items, for `deserialize_with`: more is refused while it is read.
pub fn bounded<'de, const N: usize, D: Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    struct AtMost<T, const N: usize>(std::marker::PhantomData<T>);
    impl<'de, T: serde::Deserialize<'de>, const N: usize> Visitor<'de> for AtMost<T, N> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "a list of at most {N} items")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element()? {
                if items.len() == N {
                    return Err(A::Error::custom(format!("a page held more than the {N} items asked for")));
                }
                items.push(item);
            }
            Ok(items)
        }
    }
    d.deserialize_seq(AtMost::<T, N>(std::marker::PhantomData))
}
