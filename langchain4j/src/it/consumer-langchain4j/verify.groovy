def log = new File(basedir, 'build.log').text
def m = (log =~ /langchain4j embedding of 384 floats, norm ([0-9.]+)/)
assert m.size() == 1 : 'the example printed its embedding'
assert Math.abs((m[0][1] as double) - 1.0) < 1e-3 : 'langchain4j vectors are normalised'
true
