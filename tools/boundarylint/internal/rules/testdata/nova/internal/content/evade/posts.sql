DELETE FROM content.posts WHERE id = $1
