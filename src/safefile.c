// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safefile.h"

static int dir_of(const char *path, char *dir, size_t len)
{
	char copy[PATH_MAX];

	if (strlen(path) >= sizeof(copy))
		return -ENAMETOOLONG;
	strcpy(copy, path);
	if (snprintf(dir, len, "%s", dirname(copy)) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

static int make_temp(const char *path, char *tmp, size_t len, mode_t mode)
{
	int fd;

	if (snprintf(tmp, len, "%s.XXXXXX", path) >= (int)len)
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode)) {
		int ret = -errno;

		close(fd);
		unlink(tmp);
		return ret;
	}
	return fd;
}

bool safefile_same(const char *path, const char *other)
{
	char dir[PATH_MAX], odir[PATH_MAX], name[PATH_MAX], oname[PATH_MAX];
	struct stat st, ost;
	bool there = !stat(path, &st);
	bool other_there = other ? !stat(other, &ost) : !fstat(STDIN_FILENO, &ost);

	if (there || other_there)
		return there && other_there && st.st_dev == ost.st_dev && st.st_ino == ost.st_ino;
	if (!other)
		return false;
	if (dir_of(path, dir, sizeof(dir)) || dir_of(other, odir, sizeof(odir)) || stat(dir, &st) ||
	    stat(odir, &ost))
		return !strcmp(path, other);
	/* dir_of() took the lengths: both fit */
	strcpy(name, path);
	strcpy(oname, other);
	return st.st_dev == ost.st_dev && st.st_ino == ost.st_ino &&
	       !strcmp(basename(name), basename(oname));
}

int safefile_check(const char *path, char *err, size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	struct stat st;
	int fd, ret;

	if (!lstat(path, &st)) {
		if (S_ISLNK(st.st_mode)) {
			snprintf(err, errlen, "'%s' is a symbolic link: refusing to write through it; "
				 "name the real file", path);
			return -ELOOP;
		}
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "'%s' exists and is not a regular file", path);
			return -EINVAL;
		}
	} else if (errno != ENOENT) {
		ret = -errno;
		snprintf(err, errlen, "cannot use '%s': %s", path, strerror(-ret));
		return ret;
	}
	ret = dir_of(path, dir, sizeof(dir));
	if (ret) {
		snprintf(err, errlen, "'%s': %s", path, strerror(-ret));
		return ret;
	}
	/* The real test: can a file be created (and renamed) in that folder? */
	fd = make_temp(path, tmp, sizeof(tmp), 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create files in '%s' (for '%s'): %s", dir, path,
			 strerror(-fd));
		return fd;
	}
	close(fd);
	unlink(tmp);
	return 0;
}

int safefile_write(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
	return safefile_write_mode(path, data, len, 0600, err, errlen);
}

int safefile_write_mode(const char *path, const char *data, size_t len, mode_t mode, char *err,
			size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	size_t off = 0;
	int fd, dfd, ret = 0;

	fd = make_temp(path, tmp, sizeof(tmp), mode);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a temporary file next to '%s': %s", path,
			 strerror(-fd));
		return fd;
	}
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret) {
		unlink(tmp);
		snprintf(err, errlen, "writing '%s' failed: %s (the previous file, if any, is intact)",
			 path, strerror(-ret));
		return ret;
	}
	/* Make the rename itself durable. */
	if (!dir_of(path, dir, sizeof(dir))) {
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	return 0;
}
