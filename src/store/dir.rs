//! [`Dir`]: a local folder as an object store (native only), for the CLI and
//! tests. A key is a relative path under the folder, so `convert` writes the
//! same layout as the bucket and DuckDB can glob it.
//!
//! Writes go to a temporary file under `.otlp2r2/` first and are renamed
//! into place, so a reader never sees half a file. Create-only puts link the
//! temporary file into place, which fails if the key exists, so they are
//! atomic between processes; etag-conditional puts hold an exclusive lock on
//! `.otlp2r2/lock` while they compare and swap. An etag is the file's size
//! and modification time, so listing and `head` read no bytes; every write
//! makes a new file, so it gets a new etag. Names starting with `.` are the
//! store's own and are never listed; keys may not contain them.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::{content_etag, failed, Listing, Meta, Part, PutMode, Range, Start, Store};
use crate::error::Result;

/// A file's etag: its size and modification time in nanoseconds.
fn file_etag(md: &fs::Metadata) -> String {
    let nanos = md
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("{:x}-{nanos:x}", md.len())
}

/// The store's own folder under the root (temporary files, uploads, lock).
const OWN: &str = ".otlp2r2";

/// A folder of objects.
#[derive(Debug, Clone)]
pub struct Dir {
    root: PathBuf,
    /// The last listing's prefix and every key under it, sorted, with its
    /// size and etag: the pages after its first ([`Start::Cursor`]) are
    /// cut from it instead of walking the folder again (a folder of `n`
    /// files listed a page of 1,000 at a time was walked `n / 1,000`
    /// times). Like R2's, such a page may miss what changed since the
    /// listing began.
    walked: Arc<Mutex<Walked>>,
}

/// Keys with their sizes and etags, sorted.
type Keys = Vec<(String, u64, String)>;

/// The last listing: its prefix and its keys.
type Walked = Option<(String, Arc<Keys>)>;

static UNIQUE: AtomicU64 = AtomicU64::new(0);

impl Dir {
    /// The store rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Dir {
            root: root.into(),
            walked: Arc::default(),
        }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of `key`, refusing keys that could leave the folder or name
    /// the store's own files.
    fn path(&self, op: &'static str, key: &str) -> Result<PathBuf> {
        let ok = !key.is_empty()
            && key
                .split('/')
                .all(|part| !part.is_empty() && !part.starts_with('.') && !part.contains('\\'));
        if !ok {
            return Err(failed(op, key, "not a valid key for a folder"));
        }
        Ok(self.root.join(key))
    }

    fn own(&self, name: &str) -> PathBuf {
        self.root.join(OWN).join(name)
    }

    /// A new temporary file's path under the store's own folder.
    fn temp(&self, op: &'static str, key: &str) -> Result<PathBuf> {
        let dir = self.own("tmp");
        fs::create_dir_all(&dir).map_err(|e| failed(op, key, e))?;
        let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
        Ok(dir.join(format!("{}-{n}", std::process::id())))
    }

    /// Writes a temporary file with `write`, and syncs it; returns its
    /// path. A failure removes it.
    fn stage(
        &self,
        op: &'static str,
        key: &str,
        write: impl FnOnce(&mut File) -> Result<()>,
    ) -> Result<PathBuf> {
        let tmp = self.temp(op, key)?;
        let staged = File::create(&tmp)
            .map_err(|e| failed(op, key, e))
            .and_then(|mut f| {
                write(&mut f)?;
                f.sync_all().map_err(|e| failed(op, key, e))
            });
        match staged {
            Ok(()) => Ok(tmp),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(e)
            }
        }
    }

    fn parent_of(&self, op: &'static str, key: &str, path: &Path) -> Result<()> {
        match path.parent() {
            Some(dir) => fs::create_dir_all(dir).map_err(|e| failed(op, key, e)),
            None => Ok(()),
        }
    }

    /// Runs `f` holding the store's exclusive lock.
    fn locked<T>(&self, op: &'static str, key: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        fs::create_dir_all(self.root.join(OWN)).map_err(|e| failed(op, key, e))?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.own("lock"))
            .map_err(|e| failed(op, key, e))?;
        lock.lock().map_err(|e| failed(op, key, e))?;
        let out = f();
        let _ = lock.unlock();
        out
    }

    fn meta(&self, op: &'static str, key: &str, path: &Path) -> Result<Option<Meta>> {
        match fs::metadata(path) {
            Ok(md) => Ok(Some(Meta {
                key: key.to_string(),
                size: md.len(),
                etag: file_etag(&md),
            })),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(failed(op, key, e)),
        }
    }

    /// Every key under `dir` (a path under the root), recursively.
    fn walk(&self, dir: &Path, out: &mut Keys) -> std::io::Result<()> {
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let ty = entry.file_type()?;
            if ty.is_dir() {
                self.walk(&entry.path(), out)?;
            } else if ty.is_file() {
                let rel = entry.path();
                let rel = rel.strip_prefix(&self.root).unwrap_or(&rel);
                let key = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                let md = entry.metadata()?;
                out.push((key, md.len(), file_etag(&md)));
            }
        }
        Ok(())
    }

    fn upload_dir(&self, op: &'static str, key: &str, upload_id: &str) -> Result<PathBuf> {
        let ok = !upload_id.is_empty()
            && upload_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return Err(failed(op, key, "not an upload id of this store"));
        }
        let dir = self.own("uploads").join(upload_id);
        let owner =
            fs::read_to_string(dir.join("key")).map_err(|_| failed(op, key, "no such upload"))?;
        if owner != key {
            return Err(failed(op, key, "upload is for another key"));
        }
        Ok(dir)
    }
}

impl Store for Dir {
    async fn list(&self, prefix: &str, start: Start<'_>) -> Result<Listing> {
        let mut walked = self.walked.lock().unwrap_or_else(PoisonError::into_inner);
        let found = match (&*walked, start) {
            (Some((p, found)), Start::Cursor(_)) if p == prefix => Arc::clone(found),
            _ => {
                // Walk only the deepest folder the prefix names.
                let base = match prefix.rfind('/') {
                    Some(i) => self.root.join(&prefix[..i]),
                    None => self.root.clone(),
                };
                let mut found = Vec::new();
                self.walk(&base, &mut found)
                    .map_err(|e| failed("list", prefix, e))?;
                found.retain(|(k, ..)| k.starts_with(prefix));
                found.sort();
                let found = Arc::new(found);
                *walked = Some((prefix.to_string(), Arc::clone(&found)));
                found
            }
        };
        drop(walked);
        let keys = found.iter().map(|(k, s, e)| (k, *s, e.as_str()));
        Ok(super::page(keys, start))
    }

    async fn get(&self, key: &str, range: Option<Range>) -> Result<Option<Vec<u8>>> {
        let path = self.path("get", key)?;
        let mut f = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(failed("get", key, e)),
        };
        let io = |e| failed("get", key, e);
        let size = f.metadata().map_err(io)?.len();
        let b = range.map_or(0..size, |r| r.bounds(size));
        let mut out = vec![0; (b.end - b.start) as usize];
        f.seek(SeekFrom::Start(b.start)).map_err(io)?;
        f.read_exact(&mut out).map_err(io)?;
        Ok(Some(out))
    }

    async fn head(&self, key: &str) -> Result<Option<Meta>> {
        let path = self.path("head", key)?;
        self.meta("head", key, &path)
    }

    async fn put(&self, key: &str, data: Vec<u8>, mode: PutMode) -> Result<Option<Meta>> {
        let path = self.path("put", key)?;
        self.parent_of("put", key, &path)?;
        let tmp = self.stage("put", key, |f| {
            f.write_all(&data).map_err(|e| failed("put", key, e))
        })?;
        let io = |e| failed("put", key, e);
        let written = match mode {
            PutMode::Overwrite => fs::rename(&tmp, &path).map(|_| true).map_err(io),
            PutMode::Create => match fs::hard_link(&tmp, &path) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(io(e)),
            },
            PutMode::IfMatch(want) => {
                self.locked("put", key, || match self.meta("put", key, &path)? {
                    Some(m) if m.etag == want => fs::rename(&tmp, &path).map(|_| true).map_err(io),
                    _ => Ok(false),
                })
            }
        };
        let _ = fs::remove_file(&tmp);
        if !written? {
            return Ok(None);
        }
        self.meta("put", key, &path)
    }

    async fn create_multipart(&self, key: &str) -> Result<String> {
        self.path("create_multipart", key)?;
        let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let id = format!("{}-{nanos}-{n}", std::process::id());
        let dir = self.own("uploads").join(&id);
        let io = |e| failed("create_multipart", key, e);
        fs::create_dir_all(&dir).map_err(io)?;
        fs::write(dir.join("key"), key).map_err(io)?;
        Ok(id)
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u16,
        data: Vec<u8>,
    ) -> Result<Part> {
        let dir = self.upload_dir("upload_part", key, upload_id)?;
        if number == 0 {
            return Err(failed("upload_part", key, "part numbers start at 1"));
        }
        fs::write(dir.join(format!("part-{number}")), &data)
            .map_err(|e| failed("upload_part", key, e))?;
        Ok(Part {
            number,
            etag: content_etag(&data),
        })
    }

    async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<Part>,
    ) -> Result<Meta> {
        let op = "complete_multipart";
        let dir = self.upload_dir(op, key, upload_id)?;
        let path = self.path(op, key)?;
        self.parent_of(op, key, &path)?;
        // The parts are appended to a temporary file one at a time, never
        // held together (an output of 128 MiB), then renamed into place.
        let tmp = self.stage(op, key, |out| {
            for p in &parts {
                let bytes = fs::read(dir.join(format!("part-{}", p.number)))
                    .map_err(|_| failed(op, key, "unknown part"))?;
                if content_etag(&bytes) != p.etag {
                    return Err(failed(op, key, "a part's etag does not match"));
                }
                out.write_all(&bytes).map_err(|e| failed(op, key, e))?;
            }
            Ok(())
        })?;
        if let Err(e) = fs::rename(&tmp, &path) {
            let _ = fs::remove_file(&tmp);
            return Err(failed(op, key, e));
        }
        let _ = fs::remove_dir_all(&dir);
        self.meta(op, key, &path)?
            .ok_or_else(|| failed(op, key, "the object was not written"))
    }

    async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<()> {
        // As R2: completed, aborted or unknown uploads are an error.
        let dir = self.upload_dir("abort_multipart", key, upload_id)?;
        fs::remove_dir_all(dir).map_err(|e| failed("abort_multipart", key, e))
    }

    async fn delete(&self, keys: &[String]) -> Result<()> {
        for key in keys {
            let path = self.path("delete", key)?;
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(failed("delete", key, e)),
            }
            // Tidy the partition folders a delete leaves empty.
            let mut dir = path.parent();
            while let Some(d) = dir.filter(|d| *d != self.root) {
                if fs::remove_dir(d).is_err() {
                    break;
                }
                dir = d.parent();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_executor::block_on;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("otlp2r2-dir-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn follows_the_store_contract() {
        let root = scratch("contract");
        block_on(super::super::contract::check(&Dir::new(&root), 4));
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn keys_cannot_leave_the_folder_or_name_its_own_files() {
        let root = scratch("keys");
        let d = Dir::new(&root);
        for bad in [
            "../x",
            "a/../../x",
            "/abs",
            "",
            "a//b",
            ".otlp2r2/lock",
            "a/.hidden",
        ] {
            let put = block_on(d.put(bad, vec![1], PutMode::Overwrite));
            assert!(put.is_err(), "{bad:?} was accepted");
        }
        assert!(!root.join("..").join("x").exists());
        let _ = fs::remove_dir_all(root);
    }

    #[test]
    fn deletes_tidy_empty_partition_folders() {
        let root = scratch("tidy");
        let d = Dir::new(&root);
        block_on(d.put("t/date=1/hour=2/f", vec![1], PutMode::Overwrite)).unwrap();
        block_on(d.delete(&["t/date=1/hour=2/f".to_string()])).unwrap();
        assert!(!root.join("t").exists());
        assert!(root.exists());
        fs::remove_dir_all(root).unwrap();
    }
}
