module github.com/ksym-dev/ksym

go 1.24
