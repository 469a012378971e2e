"""Image uploads: decoded and re-encoded (no original bytes served, no EXIF), stored behind one
interface (local files or S3-compatible object storage), thumbnails made by a job."""
