module example.com/baddecl

go 1.26
