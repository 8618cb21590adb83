DELETE FROM social.likes WHERE id = $1
